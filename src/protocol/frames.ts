/**
 * The consumer and producer WebSocket protocol (docs/websocket-protocol.md), as data: every frame
 * type in one `as const` map, a zod schema per client frame (parsed by frame-parse.ts into a
 * discriminated union or an error code and reason), and the server's frames as types with their
 * constructors (deliver frames: deliver-frame.ts). Frames are JSON text. The typed client
 * (client/) imports these types; stream, group and topic producer sockets are in
 * stream-frames.ts, the notification inbox's in inbox-frames.ts.
 *
 * Imports end in `.ts`: the bridge type-checks client/, and with it this file, under Node's
 * module resolution, which wants the extension (frame-parse.ts).
 */
import { z } from "zod";
import { LIMITS } from "../config.ts";
import type { FrameErrorCode } from "./error-codes.ts";
import { fieldTableSchema } from "./field-table.ts";
import { type FrameParse, parseJson, parseValue } from "./frame-parse.ts";
import type { BasicProperties } from "./properties.ts";
import type { PublishBody } from "./publish-body.ts";
import { plainPublishList, plainPublishSingle } from "./publish-fast-read.ts";

export const FRAME = {
  // consumer -> queue
  consume: "consume",
  ack: "ack",
  nack: "nack",
  reject: "reject",
  cancel: "cancel",
  extend: "extend",
  // producer -> broker
  publish: "publish",
  // broker -> client
  consumeOk: "consume_ok",
  cancelOk: "cancel_ok",
  deliver: "deliver",
  confirm: "confirm",
  error: "error",
} as const;

const deliveryTag = z.number().int().positive();
/** A list of delivery tags settled by one frame (as well as, or instead of, `delivery_tag`). */
const deliveryTags = z.array(deliveryTag).min(1).max(LIMITS.maxTagsPerFrame);
const ackTimeout = z.number().int().min(LIMITS.minAckTimeoutMs).max(LIMITS.maxAckTimeoutMs);

/** How long a nacked (requeued) delivery is held back: 0 (now) to LIMITS.maxNackDelayMs. */
const nackDelay = z.number().int().min(0).max(LIMITS.maxNackDelayMs).default(0);

function hasTag(frame: { delivery_tag?: number; delivery_tags?: number[] }): boolean {
  return frame.delivery_tag !== undefined || frame.delivery_tags !== undefined;
}

const tagMissing = { message: "delivery_tag or delivery_tags is required", path: ["delivery_tag"] };

const consumerFrames = z.discriminatedUnion("type", [
  z.object({
    type: z.literal(FRAME.consume),
    queue: z.string().optional(),
    tag: z.string().min(1).max(255),
    prefetch: z.number().int().min(0).max(LIMITS.maxPrefetch).default(LIMITS.defaultPrefetch),
    ack: z.enum(["manual", "auto"]).default("manual"),
    exclusive: z.boolean().default(false),
    ack_timeout_ms: ackTimeout.default(LIMITS.defaultAckTimeoutMs),
    arguments: fieldTableSchema.default({}),
    /** true: a dispatch round's deliveries to this consumer arrive as one frame (`deliveries`). */
    batch: z.boolean().default(false),
  }),
  z
    .object({
      type: z.literal(FRAME.ack),
      delivery_tag: deliveryTag.optional(),
      delivery_tags: deliveryTags.optional(),
      multiple: z.boolean().default(false),
    })
    .refine(hasTag, tagMissing),
  z
    .object({
      type: z.literal(FRAME.nack),
      delivery_tag: deliveryTag.optional(),
      delivery_tags: deliveryTags.optional(),
      multiple: z.boolean().default(false),
      requeue: z.boolean().default(true),
      // Retry with backoff: a requeued message is held back this long (as pull consumers' nack).
      delay_ms: nackDelay,
    })
    .refine(hasTag, tagMissing),
  z
    .object({
      type: z.literal(FRAME.reject),
      delivery_tag: deliveryTag.optional(),
      delivery_tags: deliveryTags.optional(),
      requeue: z.boolean().default(true),
      delay_ms: nackDelay,
    })
    .refine(hasTag, tagMissing),
  z.object({ type: z.literal(FRAME.cancel), tag: z.string().min(1).max(255) }),
  z.object({
    type: z.literal(FRAME.extend),
    delivery_tag: deliveryTag,
    multiple: z.boolean().default(false),
    ack_timeout_ms: ackTimeout,
  }),
]);

export type ConsumerFrame = z.infer<typeof consumerFrames>;

/** A consumer frame as a client writes it: fields with a default may be left out. */
export type ConsumerFrameInput = z.input<typeof consumerFrames>;

/**
 * A publish frame's envelope; the message fields (routing_key, properties, payload,
 * payload_encoding) are the HTTP publish body's and are validated by the same code.
 */
export const publishFrameSchema = z.looseObject({
  type: z.literal(FRAME.publish),
  seq: z.number().int().positive(),
  exchange: z.string(),
});

export type PublishFrame = z.infer<typeof publishFrameSchema>;

/**
 * A publish frame carrying many messages: each entry is a single publish frame's fields without
 * `type` (its own `seq`, `exchange` and message fields). Seqs grow within the frame and across
 * frames; each is confirmed (or nacked) on its own, ranges with `multiple` as before.
 */
export const publishListFrameSchema = z.object({
  type: z.literal(FRAME.publish),
  messages: z
    .array(
      z.looseObject({
        seq: z.number().int().positive(),
        exchange: z.string(),
      }),
    )
    .min(1)
    .max(LIMITS.maxBatchMessages),
});

export type PublishListFrame = z.infer<typeof publishListFrameSchema>;

/** One message of a publish frame: its seq, its exchange and the HTTP publish body's fields. */
export type PublishEntry = PublishListFrame["messages"][number];

/**
 * One message of a publish frame as a client writes it: the HTTP publish body's fields, of which
 * `properties` defaults to `{}` and `payload_encoding` to `string` (entryAsPublishBody).
 */
export type PublishEntryInput = Pick<PublishEntry, "seq" | "exchange"> &
  Pick<PublishBody, "routing_key" | "payload"> &
  Partial<Pick<PublishBody, "properties" | "payload_encoding">>;

/**
 * A publish frame of either form: a list under `messages` (up to maxPublishListFrameBytes), or
 * one message (up to `singleLimit`, the largest message plus its envelope). Plain frames, the
 * clients' every frame, are read without the schemas (publish-fast-read.ts), which answer the
 * rest and every error.
 */
export function parsePublishFrame(text: string, singleLimit: number): FrameParse<PublishEntry[]> {
  const json = parseJson(text, Math.max(singleLimit, LIMITS.maxPublishListFrameBytes));
  if (!json.ok) return json;
  const value = json.frame;
  const isList = typeof value === "object" && value !== null && "messages" in value;
  if (!isList && text.length > singleLimit) {
    return {
      ok: false,
      code: "frame_too_large",
      reason: `frame is larger than ${singleLimit} bytes`,
    };
  }
  const plain = isList ? plainPublishList(value) : plainPublishSingle(value);
  return plain ? { ok: true, frame: plain } : publishFrameBySchema(value, isList);
}

/**
 * A publish frame's JSON value read by the schemas: the authority the fast reader agrees with
 * (a list frame when it has `messages`, else a single-message frame).
 */
export function publishFrameBySchema(value: unknown, isList: boolean): FrameParse<PublishEntry[]> {
  if (isList) {
    const list = parseValue(publishListFrameSchema, value);
    return list.ok ? { ok: true, frame: list.frame.messages } : list;
  }
  const single = parseValue(publishFrameSchema, value);
  if (!single.ok) return single;
  const { type: _type, ...entry } = single.frame;
  return { ok: true, frame: [entry as PublishEntry] };
}

/**
 * A frame's message as the publish body it stands for: `properties` default to `{}` and
 * `payload_encoding` to `string` (a body requires both). The entry itself when it has both, as
 * clients' entries do, which spares a copy per message.
 */
export function entryAsPublishBody(entry: PublishEntry): PublishEntry {
  if (entry.properties !== undefined && entry.payload_encoding !== undefined) return entry;
  return { properties: {}, payload_encoding: "string", ...entry };
}

export function parseConsumerFrame(text: string): FrameParse<ConsumerFrame> {
  const json = parseJson(text, LIMITS.maxConsumerFrameBytes);
  if (!json.ok) return json;
  const ack = plainAck(json.frame);
  return ack ? { ok: true, frame: ack } : parseValue(consumerFrames, json.frame);
}

/**
 * The frame a consumer sends most, `{"type":"ack","delivery_tags":[...]}` (the client's, one per
 * round trip at prefetch 1), read without the schema; anything else, or anything this does not
 * accept, goes through the schema, which answers the same frame for what this accepts
 * (test/protocol/frames.test.ts checks that).
 */
export function plainAck(value: unknown): ConsumerFrame | null {
  if (typeof value !== "object" || value === null) return null;
  const {
    type,
    delivery_tags: tags,
    delivery_tag: tag,
    multiple,
    ...rest
  } = value as Record<string, unknown>;
  if (type !== FRAME.ack || tag !== undefined || Object.keys(rest).length > 0) return null;
  if (multiple !== undefined && typeof multiple !== "boolean") return null;
  if (!Array.isArray(tags) || tags.length < 1 || tags.length > LIMITS.maxTagsPerFrame) return null;
  for (const t of tags) if (!Number.isSafeInteger(t) || (t as number) <= 0) return null;
  return { type: FRAME.ack, delivery_tags: tags as number[], multiple: multiple ?? false };
}

export interface DeliverFrame {
  readonly type: typeof FRAME.deliver;
  readonly tag: string;
  readonly delivery_tag: number;
  readonly redelivered: boolean;
  readonly delivery_count: number;
  readonly exchange: string;
  readonly routing_key: string;
  /** As published, with `x-delivery-count` added to the headers of a redelivery. */
  readonly properties: BasicProperties;
  readonly payload: string;
  readonly payload_encoding: "string" | "base64";
}

/** One delivery inside a batched deliver frame: a deliver frame without `type` and `tag`. */
export type BatchedDelivery = Omit<DeliverFrame, "type" | "tag">;

/** Every delivery one dispatch round made for a consumer that asked for batches. */
export interface DeliverBatchFrame {
  readonly type: typeof FRAME.deliver;
  readonly tag: string;
  readonly deliveries: readonly BatchedDelivery[];
}

/** The broker refused a frame, or part of one (`delivery_tags`: the unknown ones of a list). */
export interface ErrorFrame {
  readonly type: typeof FRAME.error;
  readonly code: FrameErrorCode;
  readonly reason: string;
  /** The type of the frame refused. */
  readonly frame?: string;
  readonly delivery_tags?: number[];
}

/** Every routed copy of `seq` (and, with `multiple`, of every unconfirmed seq before it) is stored. */
export interface ConfirmFrame {
  readonly type: typeof FRAME.confirm;
  readonly seq: number;
  readonly multiple: boolean;
  readonly routed: boolean;
}

/** The message `seq` was refused; nothing of it was stored. */
export interface PublishNackFrame {
  readonly type: typeof FRAME.nack;
  readonly seq: number;
  readonly code: FrameErrorCode;
  readonly reason: string;
}

/** Every frame the broker sends on consumer and producer connections. */
export type ServerFrame =
  | DeliverFrame
  | DeliverBatchFrame
  | { readonly type: typeof FRAME.consumeOk; readonly tag: string }
  | { readonly type: typeof FRAME.cancelOk; readonly tag: string }
  | { readonly type: typeof FRAME.cancel; readonly tag: string; readonly reason: string }
  | ConfirmFrame
  | PublishNackFrame
  | ErrorFrame;

export function errorFrame(code: FrameErrorCode, reason: string, frame?: string): ErrorFrame {
  return frame === undefined
    ? { type: FRAME.error, code, reason }
    : { type: FRAME.error, code, reason, frame };
}

/**
 * The WebSocket frame protocol (docs/websocket-protocol.md), as data: every frame type in one
 * `as const` map, one parser per direction that answers a discriminated union or a reason, and
 * the server's frames as plain constructors. Frames are JSON text.
 */
import { z } from "zod";
import { LIMITS } from "../config";
import { fieldTableSchema } from "./field-table";
import { findIllFormed, illFormedReason } from "./unicode";

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

export type FrameParse<T> = { ok: true; frame: T } | { ok: false; code: string; reason: string };

/** Parses a frame's text: JSON, an object with a known `type`, fields of the right shape. */
export function parseFrame<T>(schema: z.ZodType<T>, text: string, limit: number): FrameParse<T> {
  const json = parseJson(text, limit);
  return json.ok ? parseValue(schema, json.frame) : json;
}

/**
 * A publish frame of either form: a list under `messages` (up to maxPublishListFrameBytes), or
 * one message (up to `singleLimit`, the largest message plus its envelope).
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
  if (isList) {
    const list = parseValue(publishListFrameSchema, value);
    return list.ok ? { ok: true, frame: list.frame.messages } : list;
  }
  const single = parseValue(publishFrameSchema, value);
  if (!single.ok) return single;
  const { type: _type, ...entry } = single.frame;
  return { ok: true, frame: [entry as PublishEntry] };
}

function parseJson(text: string, limit: number): FrameParse<unknown> {
  if (text.length > limit) {
    return { ok: false, code: "frame_too_large", reason: `frame is larger than ${limit} bytes` };
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { ok: false, code: "bad_frame", reason: "frame is not valid JSON" };
  }
  const illFormed = findIllFormed(text, value);
  if (illFormed !== null)
    return { ok: false, code: "bad_frame", reason: illFormedReason(illFormed) };
  return { ok: true, frame: value };
}

function parseValue<T>(schema: z.ZodType<T>, value: unknown): FrameParse<T> {
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue?.path.length ? `${issue.path.join(".")}: ` : "";
    const unknownType =
      (issue?.code === "invalid_union" || issue?.code === "invalid_value") &&
      (issue.path.length === 0 || (issue.path.length === 1 && issue.path[0] === "type"));
    return {
      ok: false,
      code: unknownType ? "unknown_frame" : "bad_frame",
      reason: unknownType ? "unknown frame type" : `${where}${issue?.message ?? "invalid frame"}`,
    };
  }
  return { ok: true, frame: parsed.data };
}

export function parseConsumerFrame(text: string): FrameParse<ConsumerFrame> {
  return parseFrame(consumerFrames, text, LIMITS.maxConsumerFrameBytes);
}

export interface DeliverFrame {
  readonly type: typeof FRAME.deliver;
  readonly tag: string;
  readonly delivery_tag: number;
  readonly redelivered: boolean;
  readonly delivery_count: number;
  readonly exchange: string;
  readonly routing_key: string;
  readonly properties: Record<string, unknown>;
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

export type ServerFrame =
  | DeliverFrame
  | DeliverBatchFrame
  | { type: typeof FRAME.consumeOk; tag: string }
  | { type: typeof FRAME.cancelOk; tag: string }
  | { type: typeof FRAME.cancel; tag: string; reason: string }
  | { type: typeof FRAME.confirm; seq: number; multiple: boolean; routed: boolean }
  | { type: typeof FRAME.nack; seq: number; code: string; reason: string }
  | {
      type: typeof FRAME.error;
      code: string;
      reason: string;
      frame?: string;
      delivery_tags?: number[];
    };

export function errorFrame(
  code: string,
  reason: string,
  frame?: string,
): Extract<ServerFrame, { type: typeof FRAME.error }> {
  return frame === undefined
    ? { type: FRAME.error, code, reason }
    : { type: FRAME.error, code, reason, frame };
}

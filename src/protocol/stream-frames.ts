/**
 * The stream WebSocket protocol (docs/streams.md): stream readers, consumer group members and
 * topic producers. Frame types in one `as const` map, a zod schema per client frame (parsed by
 * frame-parse.ts, as the queue sockets' frames are), and the server's frames as plain shapes.
 * Many messages travel in one `deliver` frame; credit is counted in messages (RabbitMQ's stream
 * protocol counts chunks).
 */
import { z } from "zod";
import { LIMITS, STREAM_LIMITS } from "../config";
import type { FrameErrorCode } from "./error-codes";
import { type FrameParse, parseFrame } from "./frame-parse";
import { encodePayload, type PayloadEncoding } from "./payload";
import { offsetSpecSchema, type StreamMessage } from "./stream";
import { produceBodySchema } from "./topic";

export const STREAM_FRAME = {
  // reader -> broker
  subscribe: "subscribe",
  join: "join",
  credit: "credit",
  commit: "commit",
  // producer -> broker (a topic producer connection)
  produce: "produce",
  // broker -> reader
  subscribeOk: "subscribe_ok",
  deliver: "deliver",
  assignment: "assignment",
  commitOk: "commit_ok",
  produceOk: "produce_ok",
  error: "error",
} as const;

const credit = z.number().int().min(0).max(STREAM_LIMITS.maxCredit);

const streamReaderFrames = z.discriminatedUnion("type", [
  z.object({
    type: z.literal(STREAM_FRAME.subscribe),
    offset: offsetSpecSchema.default("next"),
    credit: credit.default(1000),
    encoding: z.enum(["auto", "base64"]).default("auto"),
  }),
  z.object({
    type: z.literal(STREAM_FRAME.join),
    topics: z.array(z.string().min(1).max(255)).min(1).max(64),
    credit: credit.default(1000),
    encoding: z.enum(["auto", "base64"]).default("auto"),
    auto_offset_reset: z.enum(["earliest", "latest"]).default("latest"),
    session_timeout_ms: z
      .number()
      .int()
      .min(STREAM_LIMITS.minSessionTimeoutMs)
      .max(STREAM_LIMITS.maxSessionTimeoutMs)
      .default(STREAM_LIMITS.defaultSessionTimeoutMs),
    /** Kafka's enable.auto.commit / auto.commit.interval.ms; 0 turns auto-commit off. */
    auto_commit_interval_ms: z
      .number()
      .int()
      .min(0)
      .max(3_600_000)
      .default(STREAM_LIMITS.defaultAutoCommitMs),
    /** Also commit after this many delivered messages (0: by time only). */
    auto_commit_messages: z.number().int().min(0).max(1_000_000).default(0),
  }),
  z.object({ type: z.literal(STREAM_FRAME.credit), credit: credit }),
  z.object({
    type: z.literal(STREAM_FRAME.commit),
    offsets: z
      .array(
        z.object({
          topic: z.string(),
          partition: z.number().int().nonnegative(),
          offset: z.number().int().nonnegative(),
        }),
      )
      .max(STREAM_LIMITS.maxPartitions * 16),
  }),
]);

export type StreamReaderFrame = z.infer<typeof streamReaderFrames>;

/** A produce frame: the HTTP produce body with its type and a sequence number for the answer. */
const produceFrameSchema = produceBodySchema.extend({
  type: z.literal(STREAM_FRAME.produce),
  seq: z.number().int().positive(),
});

export type ProduceFrame = z.infer<typeof produceFrameSchema>;

export function parseProduceFrame(text: string): FrameParse<ProduceFrame> {
  return parseFrame(produceFrameSchema, text, LIMITS.maxRequestBytes);
}

export function parseStreamReaderFrame(text: string): FrameParse<StreamReaderFrame> {
  return parseFrame(streamReaderFrames, text, STREAM_LIMITS.maxStreamFrameBytes);
}

/** A stream message as fetch and deliver frames show it. */
export interface WireStreamMessage {
  readonly offset: number;
  readonly timestamp: number;
  readonly exchange: string;
  readonly routing_key: string;
  readonly properties: Record<string, unknown>;
  readonly payload: string;
  readonly payload_encoding: PayloadEncoding;
}

export function wireMessage(
  message: StreamMessage,
  encoding: "auto" | "base64",
): WireStreamMessage {
  return {
    offset: message.offset,
    timestamp: message.timestamp,
    exchange: message.exchange,
    routing_key: message.routingKey,
    properties: message.properties,
    ...encodePayload(message.body, encoding),
  };
}

/**
 * Messages for a reader, in offset order; a group member's frames name the topic partition they
 * come from (`partition` set), a single stream's do not.
 */
export function streamDeliverFrame(
  from: { readonly topic?: string; readonly partition?: number },
  messages: readonly StreamMessage[],
  encoding: "auto" | "base64",
): StreamServerFrame {
  return {
    type: STREAM_FRAME.deliver,
    ...(from.topic === undefined ? {} : { topic: from.topic, partition: from.partition }),
    messages: messages.map((m) => wireMessage(m, encoding)),
  };
}

export interface PartitionRef {
  readonly topic: string;
  readonly partition: number;
}

export type StreamServerFrame =
  | { type: typeof STREAM_FRAME.subscribeOk; offset: number }
  | {
      type: typeof STREAM_FRAME.deliver;
      topic?: string;
      partition?: number;
      messages: WireStreamMessage[];
    }
  | {
      type: typeof STREAM_FRAME.assignment;
      member_id: string;
      member_epoch: number;
      partitions: (PartitionRef & { position: number })[];
    }
  | { type: typeof STREAM_FRAME.commitOk; offsets: (PartitionRef & { offset: number })[] }
  | {
      type: typeof STREAM_FRAME.produceOk;
      seq: number;
      results: { partition: number; offset: number }[];
      duplicate: boolean;
    }
  | StreamErrorFrame;

/** A refused frame; on a topic producer connection, `seq` names the produce frame refused. */
export interface StreamErrorFrame {
  readonly type: typeof STREAM_FRAME.error;
  readonly code: FrameErrorCode;
  readonly reason: string;
  readonly seq?: number;
}

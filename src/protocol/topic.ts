/**
 * Partitioned topics (Kafka topics, RabbitMQ super streams) and consumer groups on the wire:
 * declaration bodies, produce bodies, group heartbeats and commits. A topic's partitions are
 * stream queues named `{topic}-{partition}`, as RabbitMQ names a super stream's partitions.
 */
import { z } from "zod";
import { STREAM_LIMITS } from "../config";
import { fieldTableSchema } from "./field-table";
import { basicPropertiesSchema } from "./properties";
import { offsetSpecSchema } from "./stream";

export interface TopicDeclaration {
  readonly name: string;
  readonly vhost: string;
  readonly partitions: number;
  /** Retention for every partition: `x-max-age`, `x-max-length-bytes`. */
  readonly arguments: Record<string, unknown>;
}

export const partitionStreamName = (topic: string, partition: number): string =>
  `${topic}-${partition}`;

export const topicBodySchema = z.object({
  partitions: z.number().int().min(1).max(STREAM_LIMITS.maxPartitions),
  arguments: fieldTableSchema.default({}),
});

const producedMessageSchema = z.object({
  /** Kafka's record key: null (or absent) spreads over partitions. */
  key: z.string().max(255).nullable().default(null),
  partition: z.number().int().nonnegative().optional(),
  properties: basicPropertiesSchema.default({}),
  payload: z.string(),
  payload_encoding: z.enum(["string", "base64"]).default("string"),
});

export const produceBodySchema = z.object({
  messages: z.array(producedMessageSchema).min(1).max(STREAM_LIMITS.maxProduceMessages),
  /** Idempotence (Kafka's producer id, RabbitMQ's producer name) with a batch sequence. */
  producer_id: z.string().min(1).max(255).optional(),
  sequence: z.number().int().nonnegative().optional(),
});

export type ProduceBody = z.infer<typeof produceBodySchema>;

export const heartbeatBodySchema = z.object({
  /** Absent on the first heartbeat: the broker names the member. */
  member_id: z.string().min(1).max(255).optional(),
  /** KIP-848: 0 joins, -1 leaves, otherwise the epoch the broker last answered. */
  member_epoch: z.number().int().min(-1),
  topics: z.array(z.string().min(1).max(255)).min(1).max(64).optional(),
  session_timeout_ms: z
    .number()
    .int()
    .min(STREAM_LIMITS.minSessionTimeoutMs)
    .max(STREAM_LIMITS.maxSessionTimeoutMs)
    .default(STREAM_LIMITS.defaultSessionTimeoutMs),
  auto_offset_reset: z.enum(["earliest", "latest"]).default("latest"),
});

export const commitBodySchema = z.object({
  member_id: z.string().min(1).max(255).optional(),
  member_epoch: z.number().int().min(0).optional(),
  offsets: z
    .array(
      z.object({
        topic: z.string().min(1).max(255),
        partition: z.number().int().nonnegative(),
        offset: z.number().int().nonnegative(),
      }),
    )
    .min(1)
    .max(STREAM_LIMITS.maxPartitions * 16),
});

export const resetBodySchema = z.object({
  topic: z.string().min(1).max(255),
  /** Partitions to reset; all of the topic's when absent. */
  partitions: z.array(z.number().int().nonnegative()).optional(),
  to: z.union([z.enum(["earliest", "latest"]), offsetSpecSchema]),
});

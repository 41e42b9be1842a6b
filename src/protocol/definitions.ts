/**
 * RabbitMQ's definitions file (GET/POST /api/definitions, https://www.rabbitmq.com/docs/definitions)
 * as a zod schema. Unknown keys are ignored, as RabbitMQ ignores them; missing optional keys take
 * RabbitMQ's defaults.
 */
import { z } from "zod";
import { fieldTableSchema } from "./field-table";

const tagsSchema = z.union([z.string(), z.array(z.string())]);

export const definitionsSchema = z.object({
  users: z
    .array(
      z.object({
        name: z.string(),
        password_hash: z.string().max(1024).optional(),
        password: z.string().min(1).max(1024).optional(),
        hashing_algorithm: z.string().max(255).optional(),
        tags: tagsSchema.default([]),
        limits: z.record(z.string(), z.number()).default({}),
      }),
    )
    .default([]),
  vhosts: z
    .array(
      z.object({
        name: z.string(),
        description: z.string().max(4096).optional(),
        tags: tagsSchema.optional(),
        default_queue_type: z.enum(["classic", "quorum", "stream"]).optional(),
        metadata: z
          .object({ description: z.string().max(4096).optional(), tags: tagsSchema.optional() })
          .optional(),
      }),
    )
    .default([]),
  permissions: z
    .array(
      z.object({
        user: z.string(),
        vhost: z.string(),
        configure: z.string(),
        write: z.string(),
        read: z.string(),
      }),
    )
    .default([]),
  topic_permissions: z
    .array(
      z.object({
        user: z.string(),
        vhost: z.string(),
        exchange: z.string(),
        write: z.string(),
        read: z.string(),
      }),
    )
    .default([]),
  parameters: z
    .array(
      z.object({
        vhost: z.string(),
        component: z.string(),
        name: z.string(),
        value: z.unknown(),
      }),
    )
    .default([]),
  policies: z.array(z.unknown()).default([]),
  /** An extension: RabbitMQ 3.10 does not export operator policies; this broker does. */
  operator_policies: z.array(z.unknown()).default([]),
  exchanges: z
    .array(
      z.object({
        name: z.string(),
        vhost: z.string(),
        type: z.string(),
        durable: z.boolean().default(true),
        auto_delete: z.boolean().default(false),
        internal: z.boolean().default(false),
        arguments: fieldTableSchema.default({}),
      }),
    )
    .default([]),
  queues: z
    .array(
      z.object({
        name: z.string(),
        vhost: z.string(),
        durable: z.boolean().default(true),
        auto_delete: z.boolean().default(false),
        arguments: fieldTableSchema.default({}),
      }),
    )
    .default([]),
  bindings: z
    .array(
      z.object({
        source: z.string(),
        vhost: z.string(),
        destination: z.string(),
        destination_type: z.enum(["queue", "exchange"]),
        routing_key: z.string().default(""),
        arguments: fieldTableSchema.default({}),
      }),
    )
    .default([]),
});

export type DefinitionsFile = z.infer<typeof definitionsSchema>;

/** How RabbitMQ exports vhost limits: a runtime parameter of the `vhost-limits` component. */
export const VHOST_LIMITS_COMPONENT = "vhost-limits";

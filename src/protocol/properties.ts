/**
 * AMQP 0-9-1 basic properties as the management API spells them
 * (../shared/reference/rabbitmq-http-api.md, "Message properties"). They are stored as given and
 * returned unchanged.
 */
import { z } from "zod";
import { fieldTableSchema } from "./field-table.ts";

export const basicPropertiesSchema = z.strictObject({
  content_type: z.string().optional(),
  content_encoding: z.string().optional(),
  headers: fieldTableSchema.optional(),
  delivery_mode: z.union([z.literal(1), z.literal(2)]).optional(),
  priority: z.number().int().min(0).max(255).optional(),
  correlation_id: z.string().optional(),
  reply_to: z.string().optional(),
  // AMQP carries expiration as a string of milliseconds.
  expiration: z.string().regex(/^\d+$/, "expiration must be a string of milliseconds").optional(),
  message_id: z.string().optional(),
  timestamp: z.number().int().nonnegative().optional(),
  type: z.string().optional(),
  user_id: z.string().optional(),
  app_id: z.string().optional(),
  cluster_id: z.string().optional(),
});

export type BasicProperties = z.infer<typeof basicPropertiesSchema>;

/**
 * One message as a producer sends it: the management API's publish body, and each message of a
 * WebSocket publish frame (which adds its `seq` and `exchange`, src/protocol/frames.ts). Properties
 * are only checked here; the broker keeps them as the client sent them (src/api/message-input.ts).
 *
 * Imports end in `.ts`: the typed client (client/) imports these types (see frame-parse.ts).
 */
import { z } from "zod";
import { basicPropertiesSchema } from "./properties.ts";

/** The management API's publish body: all four keys required, as RabbitMQ requires them. */
export const publishBodySchema = z.object({
  properties: basicPropertiesSchema,
  routing_key: z.string(),
  payload: z.string(),
  payload_encoding: z.enum(["string", "base64"]),
});

export type PublishBody = z.infer<typeof publishBodySchema>;

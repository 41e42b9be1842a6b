/**
 * A queue's policy, read from its declaration's arguments (x-message-ttl, x-dead-letter-*,
 * x-max-length*, x-overflow, x-single-active-consumer, x-delivery-limit) into the shape
 * QueueEngine applies. Arguments of the wrong type are ignored, as if absent.
 */
import type { QueueDeclaration } from "../protocol/declarations";
import type { QueuePolicy } from "./queue-engine";

export function queuePolicy(declaration: QueueDeclaration | null): QueuePolicy {
  const args = declaration?.arguments ?? {};
  const limit = args["x-delivery-limit"];
  const ttl = args["x-message-ttl"];
  const dlx = args["x-dead-letter-exchange"];
  const dlrk = args["x-dead-letter-routing-key"];
  const maxLength = args["x-max-length"];
  const maxLengthBytes = args["x-max-length-bytes"];
  // reject-publish and reject-publish-dlx are not applied yet (docs/queue-features.md): their
  // queues take no length limit rather than silently dropping from the head.
  const dropHead = (args["x-overflow"] ?? "drop-head") === "drop-head";
  return {
    maxLength: dropHead && typeof maxLength === "number" ? maxLength : undefined,
    maxLengthBytes: dropHead && typeof maxLengthBytes === "number" ? maxLengthBytes : undefined,
    deadLetter:
      typeof dlx === "string"
        ? { exchange: dlx, routingKey: typeof dlrk === "string" ? dlrk : undefined }
        : undefined,
    messageTtl: typeof ttl === "number" ? ttl : undefined,
    singleActiveConsumer: args["x-single-active-consumer"] === true,
    deliveryLimit: typeof limit === "number" ? limit : undefined,
  };
}

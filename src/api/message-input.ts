/**
 * One message as a producer sends it (an HTTP publish body or a WebSocket publish frame),
 * validated into the message the broker routes. Properties are kept as the client sent them
 * (the schema only checks them), so they come back byte for byte, key order included.
 */
import { type BrokerConfig, LIMITS } from "../config";
import { BrokerError } from "../errors";
import type { PublishedMessage } from "../protocol/message";
import { checkRoutingKey } from "../protocol/names";
import { decodePayload } from "../protocol/payload";
import type { BasicProperties } from "../protocol/properties";
import { type PublishBody, publishBodySchema } from "../protocol/publish-body";
import { isPlainPublishBody } from "../protocol/publish-fast-read";
import { parseWith } from "./body";

export function toMessage(
  exchange: string,
  raw: unknown,
  config: BrokerConfig,
  where = "",
): PublishedMessage {
  // A plain body (the common one) certainly passes the schema and the size check: read as is.
  const body = isPlainPublishBody(raw) ? raw : publishBodyBySchema(raw, where);
  const prefix = where ? `${where}: ` : "";
  const badKey = checkRoutingKey(body.routing_key);
  if (badKey) throw new BrokerError(badKey.code, prefix + badKey.reason);
  const decoded = decodePayload(body.payload, body.payload_encoding);
  if (!(decoded instanceof Uint8Array)) {
    throw new BrokerError(decoded.code, prefix + decoded.reason);
  }
  if (decoded.byteLength > config.maxMessageBytes) {
    throw new BrokerError(
      "payload_too_large",
      `${prefix}message size ${decoded.byteLength} is larger than configured max size ${config.maxMessageBytes}`,
    );
  }
  return { exchange, routingKey: body.routing_key, properties: body.properties, body: decoded };
}

/**
 * A publish body read by the schema, then its properties' size checked: the authority the fast
 * reader (src/protocol/publish-fast-read.ts) agrees with. The properties are the client's object,
 * not the schema's copy, which would reorder the keys.
 */
export function publishBodyBySchema(raw: unknown, where = ""): PublishBody {
  const body = parseWith(publishBodySchema, raw, where);
  const properties = (raw as { properties: BasicProperties }).properties;
  if (JSON.stringify(properties).length > LIMITS.maxPropertiesBytes) {
    const prefix = where ? `${where}: ` : "";
    throw new BrokerError(
      "payload_too_large",
      `${prefix}message properties are larger than ${LIMITS.maxPropertiesBytes} bytes`,
    );
  }
  return { ...body, properties };
}

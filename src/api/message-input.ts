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
import { publishBodySchema } from "../protocol/publish-body";
import { parseWith } from "./body";

export function toMessage(
  exchange: string,
  raw: unknown,
  config: BrokerConfig,
  where = "",
): PublishedMessage {
  const body = parseWith(publishBodySchema, raw, where);
  const properties = (raw as { properties: BasicProperties }).properties;
  const prefix = where ? `${where}: ` : "";
  if (JSON.stringify(properties).length > LIMITS.maxPropertiesBytes) {
    throw new BrokerError(
      "payload_too_large",
      `${prefix}message properties are larger than ${LIMITS.maxPropertiesBytes} bytes`,
    );
  }
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
  return { exchange, routingKey: body.routing_key, properties, body: decoded };
}

/**
 * The deliver frame a consumer receives for one message (docs/websocket-protocol.md).
 */
import type { DeliverFrame } from "../protocol/frames";
import type { StoredMessage } from "../protocol/message";
import { encodePayload } from "../protocol/payload";

/** A delivery as the consumer sees it; a redelivery carries x-delivery-count in its headers. */
export function deliverFrame(
  message: StoredMessage,
  tag: string,
  deliveryTag: number,
): DeliverFrame {
  const previous = message.deliveryCount;
  const properties: Record<string, unknown> =
    previous > 0
      ? {
          ...message.properties,
          headers: { ...message.properties.headers, "x-delivery-count": previous },
        }
      : message.properties;
  return {
    type: "deliver",
    tag,
    delivery_tag: deliveryTag,
    redelivered: message.redelivered,
    delivery_count: previous + 1,
    exchange: message.exchange,
    routing_key: message.routingKey,
    properties,
    ...encodePayload(message.body, "auto"),
  };
}

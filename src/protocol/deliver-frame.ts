/**
 * The deliver frames a queue sends its WebSocket consumers (docs/websocket-protocol.md): one
 * delivery per frame, or a dispatch round's deliveries to one consumer in one frame for a
 * consumer that subscribed with `batch`. The queue decides what to deliver; this decides how it
 * looks on the wire.
 */
import { type BatchedDelivery, type DeliverBatchFrame, type DeliverFrame, FRAME } from "./frames";
import type { StoredMessage } from "./message";
import { encodePayload } from "./payload";
import type { BasicProperties } from "./properties";

/** A delivery as the consumer sees it; a redelivery carries x-delivery-count in its headers. */
export function deliverFrame(
  message: StoredMessage,
  tag: string,
  deliveryTag: number,
): DeliverFrame {
  const previous = message.deliveryCount;
  const properties: BasicProperties =
    previous > 0
      ? {
          ...message.properties,
          headers: { ...message.properties.headers, "x-delivery-count": previous },
        }
      : message.properties;
  return {
    type: FRAME.deliver,
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

/** A deliver frame's entry in a batched frame: the frame without `type` and `tag`. */
export function batchedDelivery(frame: DeliverFrame): BatchedDelivery {
  const { type: _type, tag: _tag, ...delivery } = frame;
  return delivery;
}

/** Every delivery one dispatch round made for `tag`, in queue order, as one frame. */
export function deliverBatchFrame(
  tag: string,
  deliveries: readonly BatchedDelivery[],
): DeliverBatchFrame {
  return { type: FRAME.deliver, tag, deliveries };
}

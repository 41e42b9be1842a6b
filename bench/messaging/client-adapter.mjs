// Our broker as a messaging-suite adapter (bench/messaging/suite.mjs) driven through the typed client
// in client/, the way an application uses it: one `publish()` call per message (each with its
// own confirm promise) and one `delivery.ack()` per delivery. The client batches what is called
// in the same tick into one frame (publish lists, batched deliveries, ack lists). Reconnects are
// off (maxRetries 0) so that a lost connection is seen and counted, not hidden. Setup, depths and
// pre-filling reuse the HTTP adapter (ws-adapter.mjs).

import { BrokerClient } from "../../client/index.ts";
import { HOST, withTimeout } from "../lib/common.mjs";
import { workersBrokerAdapter } from "./ws-adapter.mjs";

const OPEN_TIMEOUT_MS = 15_000;
const V = "%2F";

export function clientAdapter({ port, authorization, server, serverChanged, name }) {
  const base = workersBrokerAdapter({ port, authorization, server, serverChanged });
  const [user, password] = Buffer.from(authorization.replace(/^Basic /, ""), "base64")
    .toString("utf8")
    .split(":");
  const url = `http://${encodeURIComponent(user)}:${encodeURIComponent(password)}@${HOST}:${port}/${V}`;
  const client = () => new BrokerClient(url, { reconnect: { maxRetries: 0 } });

  return {
    ...base,
    name,

    async openProducer({ onConfirm, onNack, onFailure }) {
      const publisher = client().publisher();
      publisher.onError = (code, reason) =>
        onFailure(`producer: error frame ${code}: ${reason}`, { fatal: false });
      return {
        publish(exchange, routingKey, id, payload) {
          publisher
            .publish(exchange, routingKey, payload, { delivery_mode: 2 })
            .then(({ routed }) => onConfirm(id, routed))
            .catch((error) => onNack(id, String(error?.message ?? error)));
        },
        async close() {
          publisher.close();
        },
      };
    },

    async consume(queue, { prefetch, onDelivery, onFailure }) {
      const held = new Map(); // delivery tag -> Delivery, for `ack(tag, multiple)`
      let handle = null;
      const consumer = client().consume(
        queue,
        (delivery) => {
          held.set(delivery.deliveryTag, delivery);
          onDelivery(
            {
              tag: delivery.deliveryTag,
              payload: delivery.payload,
              redelivered: delivery.redelivered,
            },
            handle,
          );
        },
        { prefetch, tag: `bench-${queue}` },
      );
      consumer.onError = (code, reason) =>
        onFailure(`consumer ${queue}: error frame ${code}: ${reason}`, { fatal: false });
      handle = {
        // The application acks each delivery; "multiple" is every held delivery up to the tag.
        ack(deliveryTag, multiple) {
          if (!multiple) {
            held.get(deliveryTag)?.ack();
            held.delete(deliveryTag);
            return;
          }
          for (const [tag, delivery] of held) {
            if (tag > deliveryTag) continue;
            delivery.ack();
            held.delete(tag);
          }
        },
        cancel: () => consumer.cancel(),
        async close() {
          consumer.close();
        },
      };
      await withTimeout(consumer.ready, OPEN_TIMEOUT_MS, `consume_ok on ${queue}`);
      return handle;
    },
  };
}

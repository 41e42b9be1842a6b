/**
 * The seed article's receiver: the inventory service consumes `product_inventory`, updates its
 * stock and acknowledges each order. Stop it, send orders, start it again: nothing is lost.
 *
 *   npm run example:receive -- [--exit-after-idle MS]      (or node examples/... on Node >= 22.18)
 *
 * BROKER_URL overrides the broker (default http://guest:guest@localhost:8787/%2F).
 */
import { BrokerClient } from "../../client/index.ts";

const url = process.env.BROKER_URL ?? "http://guest:guest@localhost:8787/%2F";
const idleFlag = process.argv.indexOf("--exit-after-idle");
const idleMs = idleFlag >= 0 ? Number(process.argv[idleFlag + 1]) : undefined;
const broker = new BrokerClient(url);
await broker.declareQueue("product_inventory", { durable: true });

let idleTimer: ReturnType<typeof setTimeout> | undefined;
const stock = new Map<number, number>();
const consumer = broker.consume(
  "product_inventory",
  (delivery) => {
    const order = JSON.parse(delivery.payload) as {
      orderId: string;
      productId: number;
      quantity: number;
    };
    stock.set(order.productId, (stock.get(order.productId) ?? 100) - order.quantity);
    console.log(
      `Received order ${order.orderId}: product ${order.productId} now ${stock.get(order.productId)} in stock${delivery.redelivered ? " (redelivered)" : ""}`,
    );
    delivery.ack();
    armIdleTimer();
  },
  { prefetch: 10 },
);
consumer.onError = (code, reason) => console.error(`broker error ${code}: ${reason}`);
await consumer.ready;
console.log("Waiting for orders on product_inventory. To exit press CTRL+C");
armIdleTimer();

function armIdleTimer(): void {
  if (idleMs === undefined) return;
  if (idleTimer) clearTimeout(idleTimer);
  idleTimer = setTimeout(() => {
    consumer.close();
    process.exit(0);
  }, idleMs);
}

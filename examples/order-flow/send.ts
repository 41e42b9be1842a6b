/**
 * The seed article's sender: places orders on the `product_inventory` queue and waits for the
 * broker's confirm for each one. Run against `npm start`:
 *
 *   npm run example:send -- [count]      (or node examples/order-flow/send.ts on Node >= 22.18)
 *
 * BROKER_URL overrides the broker (default http://guest:guest@localhost:8787/%2F).
 */
import { BrokerClient } from "../../client/index.ts";

const url = process.env.BROKER_URL ?? "http://guest:guest@localhost:8787/%2F";
const count = Number(process.argv[2] ?? "3");
const broker = new BrokerClient(url);

await broker.declareQueue("product_inventory", { durable: true });
const publisher = broker.publisher();
for (let i = 1; i <= count; i++) {
  const order = { orderId: `${Date.now()}-${i}`, productId: 40 + i, quantity: i };
  const { routed } = await publisher.publish("", "product_inventory", JSON.stringify(order), {
    content_type: "application/json",
    delivery_mode: 2,
  });
  console.log(
    `Sent order ${order.orderId} (product ${order.productId} x${order.quantity})${routed ? "" : " -- not routed!"}`,
  );
}
publisher.close();

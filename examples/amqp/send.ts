// The seed article's sender (github.com/5minslearn/rabbit-sender, server.ts), unchanged but for
// the URL: AMQP_URL, else amqp://localhost (the bridge of `npm run amqp` on 5672, in front of
// `npm start`). Run: npm run example:amqp-send
import amqp from "amqplib";

const queue = "product_inventory";
const text = {
  item_id: "macbook",
  text: "This is a sample message to send receiver to check the ordered Item Availablility",
};

(async () => {
  let connection;
  try {
    connection = await amqp.connect(process.env.AMQP_URL ?? "amqp://localhost");
    const channel = await connection.createChannel();

    await channel.assertQueue(queue, { durable: false });
    channel.sendToQueue(queue, Buffer.from(JSON.stringify(text)));
    console.log(" [x] Sent '%s'", text);
    await channel.close();
  } catch (err) {
    console.warn(err);
  } finally {
    if (connection) await connection.close();
  }
})();

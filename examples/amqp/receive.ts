// The seed article's receiver (github.com/5minslearn/rabbit-receiver, server.ts), unchanged but
// for the URL: AMQP_URL, else amqp://localhost (the bridge of `npm run amqp` on 5672, in front
// of `npm start`). Run: npm run example:amqp-receive (Ctrl-C stops it)
import amqp from "amqplib";

const queue = "product_inventory";

(async () => {
  try {
    const connection = await amqp.connect(process.env.AMQP_URL ?? "amqp://localhost");
    const channel = await connection.createChannel();

    process.once("SIGINT", async () => {
      await channel.close();
      await connection.close();
    });

    await channel.assertQueue(queue, { durable: false });
    await channel.consume(
      queue,
      (message) => {
        if (message) {
          console.log(
            " [x] Received '%s'",
            JSON.parse(message.content.toString())
          );
        }
      },
      { noAck: true }
    );

    console.log(" [*] Waiting for messages. To exit press CTRL+C");
  } catch (err) {
    console.warn(err);
  }
})();

/**
 * Work sharing: two receivers on one queue split the messages between them (round-robin, one
 * unacknowledged message each at a time), as the seed articles' workers do.
 *
 *   npm run example:work-sharing -- [tasks]      (or node examples/work-sharing.ts on Node >= 22.18)
 *
 * BROKER_URL overrides the broker (default http://guest:guest@localhost:8787/%2F).
 */
import { BrokerClient } from "../client/index.ts";

const url = process.env.BROKER_URL ?? "http://guest:guest@localhost:8787/%2F";
const tasks = Number(process.argv[2] ?? "10");
const broker = new BrokerClient(url);
await broker.declareQueue("tasks", { durable: true });

const done: Record<string, string[]> = { "worker-1": [], "worker-2": [] };
let remaining = tasks;
let finish: () => void = () => {};
const finished = new Promise<void>((resolve) => {
  finish = resolve;
});

const workers = Object.keys(done).map((name) =>
  new BrokerClient(url).consume(
    "tasks",
    async (delivery) => {
      await new Promise((resolve) => setTimeout(resolve, 20)); // the "work"
      done[name]?.push(delivery.payload);
      console.log(`${name} did ${delivery.payload}`);
      delivery.ack();
      if (--remaining === 0) finish();
    },
    { prefetch: 1 },
  ),
);
await Promise.all(workers.map((w) => w.ready));

const publisher = broker.publisher();
await Promise.all(
  Array.from({ length: tasks }, (_, i) => publisher.publish("", "tasks", `task-${i + 1}`)),
);
await finished;
for (const [name, list] of Object.entries(done)) console.log(`${name}: ${list.length} tasks`);
publisher.close();
for (const worker of workers) worker.close();

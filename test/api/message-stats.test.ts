import { describe, expect, it } from "vitest";
import { bindQueue, call, declareExchange, declareQueue, json, publish } from "../support/api";
import { flushReports } from "../support/reports";
import { deliveries, isType, openConsumer } from "../support/socket";

type Stats = Record<string, number | { rate: number }>;
interface WithStats {
  message_stats: Stats;
}
interface Overview extends WithStats {
  object_totals: { queues: number; exchanges: number; consumers: number };
  queue_totals: { messages_ready: number; messages_unacknowledged: number };
}

const queueStats = async (queue: string) =>
  (await json<WithStats>(await call("GET", `/api/queues/%2F/${queue}`))).message_stats;
const rate = (stats: Stats, event: string) => (stats[`${event}_details`] as { rate: number }).rate;
const get = (queue: string, ackmode: string, count = 10) =>
  call("POST", `/api/queues/%2F/${queue}/get`, {
    body: { count, ackmode, encoding: "auto" },
  });

describe("message_stats", () => {
  it("counts publishes, gets and redeliveries of a queue, with rates", async () => {
    await declareQueue("ms.counted");
    for (const payload of ["a", "b", "c"]) await publish("", "ms.counted", payload);
    await get("ms.counted", "ack_requeue_true", 2); // a look: both come back redelivered
    await get("ms.counted", "ack_requeue_false"); // takes all three, two of them redelivered
    const stats = await queueStats("ms.counted");
    expect(stats).toMatchObject({ publish: 3, deliver_get: 5, redeliver: 2, ack: 0 });
    expect(rate(stats, "publish")).toBeGreaterThan(0);
    expect(rate(stats, "deliver_get")).toBeGreaterThan(rate(stats, "publish"));
  });

  it("counts deliveries to a consumer and its acks", async () => {
    await declareQueue("ms.consumed");
    const socket = await openConsumer("ms.consumed");
    socket.send({ type: "consume", tag: "ms", prefetch: 10 });
    await socket.next(isType("consume_ok"));
    for (const payload of ["1", "2", "3", "4"]) await publish("", "ms.consumed", payload);
    const got = await deliveries(socket, 4);
    socket.send({ type: "ack", delivery_tag: got[3]?.delivery_tag, multiple: true });
    let stats: Stats = {};
    for (let i = 0; i < 50 && stats.ack !== 4; i++) stats = await queueStats("ms.consumed");
    expect(stats).toMatchObject({ publish: 4, deliver_get: 4, ack: 4, redeliver: 0 });
    expect(rate(stats, "ack")).toBeGreaterThan(0);
    const queue = await json<{ consumer_details: unknown[] }>(
      await call("GET", "/api/queues/%2F/ms.consumed"),
    );
    expect(queue.consumer_details).toMatchObject([
      {
        consumer_tag: "ms",
        ack_required: true,
        prefetch_count: 10,
        channel_details: { user: "guest" },
      },
    ]);
    socket.close();
  });

  it("counts an exchange's messages in and those it routed out", async () => {
    await declareExchange("ms.fan", "fanout");
    await declareQueue("ms.fan.q");
    await bindQueue("ms.fan", "ms.fan.q");
    await declareExchange("ms.nowhere", "fanout");
    await publish("ms.fan", "", "x");
    await publish("ms.fan", "", "y");
    await publish("ms.nowhere", "", "lost");
    const fan = await json<WithStats>(await call("GET", "/api/exchanges/%2F/ms.fan"));
    expect(fan.message_stats).toMatchObject({ publish_in: 2, publish_out: 2 });
    const nowhere = await json<WithStats>(await call("GET", "/api/exchanges/%2F/ms.nowhere"));
    expect(nowhere.message_stats).toMatchObject({ publish_in: 1, publish_out: 0 });
    const list = await json<{ items: (WithStats & { name: string })[] }>(
      await call("GET", "/api/exchanges/%2F?page=1&name=ms.fan"),
    );
    expect(list.items[0]?.message_stats).toMatchObject({ publish_in: 2 });
  });

  it("adds every queue's counts and message_stats into the overview's totals", async () => {
    // The queues of earlier tests report on their own schedule: flush them first, so that none
    // lands between the two overviews.
    const earlier = await json<{ name: string }[]>(await call("GET", "/api/queues/%2F"));
    await flushReports("/", ...earlier.map((q) => q.name));
    const before = await json<Overview>(await call("GET", "/api/overview"));
    await declareQueue("ms.total.a");
    await declareQueue("ms.total.b");
    await publish("", "ms.total.a", "1");
    await publish("", "ms.total.a", "2");
    await publish("", "ms.total.b", "3");
    await get("ms.total.b", "ack_requeue_false");
    await flushReports("/", "ms.total.a", "ms.total.b");
    const after = await json<Overview>(await call("GET", "/api/overview"));
    expect(after.object_totals.queues - before.object_totals.queues).toBe(2);
    expect(after.queue_totals.messages_ready - before.queue_totals.messages_ready).toBe(2);
    const delta = (event: string) =>
      (after.message_stats[event] as number) - ((before.message_stats[event] as number) ?? 0);
    expect(delta("publish")).toBe(3);
    expect(delta("deliver_get")).toBe(1);
    expect(rate(after.message_stats, "publish")).toBeGreaterThan(0);
  });

  it("pages a queue list sorted by name asking only the page's queues, with their stats", async () => {
    for (const name of ["ms.page.c", "ms.page.a", "ms.page.b"]) await declareQueue(name);
    await publish("", "ms.page.a", "hello");
    await flushReports("/", "ms.page.a");
    const page = await json<{
      items: (WithStats & { name: string; messages_ready: number })[];
      filtered_count: number;
    }>(
      await call(
        "GET",
        "/api/queues/%2F?page=1&page_size=2&name=^ms\\.page\\.&use_regex=true&sort=name",
      ),
    );
    expect(page.filtered_count).toBe(3);
    expect(page.items.map((q) => q.name)).toEqual(["ms.page.a", "ms.page.b"]);
    expect(page.items[0]).toMatchObject({ messages_ready: 1, message_stats: { publish: 1 } });
    const byDepth = await json<{ items: { name: string }[] }>(
      await call(
        "GET",
        "/api/queues/%2F?page=1&page_size=1&name=ms.page.&sort=messages_ready&sort_reverse=true",
      ),
    );
    expect(byDepth.items.map((q) => q.name)).toEqual(["ms.page.a"]);
  });
});

import { describe, expect, it } from "vitest";
import { MessageStats, QUEUE_EVENTS, sumMessageStats } from "../../src/runtime/message-stats";

function clockAt(start: number) {
  const clock = { now: start };
  return { clock, read: () => clock.now };
}

describe("message_stats counters", () => {
  it("counts events and reports RabbitMQ's shape with a rate per event", () => {
    const { read } = clockAt(1_000_000);
    const stats = new MessageStats(QUEUE_EVENTS, read);
    stats.add("publish", 10);
    stats.add("deliver_get", 4);
    stats.add("ack", 3);
    const snapshot = stats.snapshot();
    expect(snapshot).toMatchObject({ publish: 10, deliver_get: 4, ack: 3, redeliver: 0 });
    expect(snapshot.publish_details).toEqual({ rate: 2 });
    expect(snapshot.redeliver_details).toEqual({ rate: 0 });
  });

  it("averages the last five seconds and falls to zero once the events stop", () => {
    const { clock, read } = clockAt(2_000_000);
    const stats = new MessageStats(QUEUE_EVENTS, read);
    for (let second = 0; second < 5; second++) {
      stats.add("publish", 100);
      clock.now += 1000;
    }
    expect(stats.rate("publish")).toBe(100);
    clock.now += 3000;
    expect(stats.rate("publish")).toBe(40);
    clock.now += 10_000;
    expect(stats.rate("publish")).toBe(0);
    expect(stats.total("publish")).toBe(500);
  });

  it("sums counters and rates of several objects", () => {
    const { read } = clockAt(3_000_000);
    const a = new MessageStats(QUEUE_EVENTS, read);
    const b = new MessageStats(QUEUE_EVENTS, read);
    a.add("publish", 5);
    b.add("publish", 15);
    b.add("ack", 5);
    expect(sumMessageStats([a.snapshot(), b.snapshot()])).toMatchObject({
      publish: 20,
      publish_details: { rate: 4 },
      ack: 5,
      ack_details: { rate: 1 },
    });
  });
});

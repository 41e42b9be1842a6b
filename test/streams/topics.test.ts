// kafkajs's DefaultPartitioner is the Java client's partitioner ported to JavaScript: the
// published reference the broker's partition choice is checked against.
import createKafkaDefaultPartitioner from "kafkajs/src/producer/partitioners/default/index.js";
import { describe, expect, it } from "vitest";
import { murmur2 } from "../../src/streams/partitioner";
import { createUser, grant } from "../support/access";
import { call, expectError, json } from "../support/api";
import { isType, openSocket } from "../support/socket";
import { declareTopic, fetchPartition, produce, produceOk } from "./support";

const kafkaPartition = (key: string, partitions: number): number => {
  const partitioner = createKafkaDefaultPartitioner();
  return partitioner({
    topic: "t",
    partitionMetadata: Array.from({ length: partitions }, (_, partitionId) => ({
      partitionId,
      leader: 0,
    })),
    message: { key },
  });
};

describe("partitioned topics", () => {
  it("hashes with Kafka's murmur2: the vectors of Kafka's own UtilsTest", () => {
    const encode = (s: string) => new TextEncoder().encode(s);
    expect(murmur2(encode("21"))).toBe(-973932308);
    expect(murmur2(encode("foobar"))).toBe(-790332482);
    expect(murmur2(encode("a-little-bit-long-string"))).toBe(-985981536);
    expect(murmur2(encode("a-little-bit-longer-string"))).toBe(-1486304829);
    expect(murmur2(encode("lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8"))).toBe(-58897971);
    expect(murmur2(encode("abc"))).toBe(479470107);
  });

  it("puts each key on the partition Kafka's default partitioner chooses", async () => {
    await declareTopic("tp-keys", 12);
    const keys = [
      "1",
      "2",
      "3",
      "4",
      "42",
      "user-1",
      "user-2",
      "orders",
      "foobar",
      "21",
      "",
      "é-unicode-ключ",
      "a-little-bit-long-string",
      "0123456789abcdef",
      "emma",
      "bruno",
    ];
    const produced = await produceOk("tp-keys", {
      messages: keys.map((key) => ({ key, payload: `v-${key}` })),
    });
    const expected = keys.map((key) => kafkaPartition(key, 12));
    expect(produced.results.map((r) => r.partition)).toEqual(expected);
    // Not all on one partition: the table exercises the hash.
    expect(new Set(expected).size).toBeGreaterThan(4);
    for (const [i, key] of keys.entries()) {
      const answer = await fetchPartition("tp-keys", expected[i] as number, { offset: "first" });
      expect(answer.messages.map((m) => m.key)).toContain(key);
    }
  }, 20_000);

  it("keeps per-key order across a burst of concurrent produces", async () => {
    await declareTopic("tp-order", 4);
    const keys = ["k1", "k2", "k3", "k4", "k5"];
    await Promise.all(
      Array.from({ length: 10 }, (_, round) =>
        produceOk("tp-order", {
          messages: keys.map((key) => ({ key, payload: `${key}:${round}`, partition: undefined })),
        }),
      ),
    ).then(() => undefined);
    // Sequential batches give a total order per key; concurrent ones only per request, so send
    // a second, sequential burst and check that order strictly.
    for (let round = 0; round < 20; round++) {
      await produceOk("tp-order", {
        messages: keys.map((key) => ({ key, payload: `${key}#${round}` })),
      });
    }
    for (const key of keys) {
      const partition = kafkaPartition(key, 4);
      const answer = await fetchPartition("tp-order", partition, { offset: "first", count: 1000 });
      const sequential = answer.messages
        .filter((m) => m.key === key && m.payload.includes("#"))
        .map((m) => Number(m.payload.split("#")[1]));
      expect(sequential).toEqual(Array.from({ length: 20 }, (_, i) => i));
      expect(answer.messages.filter((m) => m.key === key)).toHaveLength(30);
    }
  });

  it("honours an explicit partition and spreads keyless messages", async () => {
    await declareTopic("tp-spread", 4);
    const explicit = await produceOk("tp-spread", {
      messages: [{ key: "x", partition: 3, payload: "p3" }],
    });
    expect(explicit.results[0]?.partition).toBe(3);
    const spread = await produceOk("tp-spread", {
      messages: Array.from({ length: 8 }, (_, i) => ({ payload: `n${i}` })),
    });
    const counts = [0, 0, 0, 0];
    for (const r of spread.results) counts[r.partition] = (counts[r.partition] ?? 0) + 1;
    expect(counts).toEqual([2, 2, 2, 2]);
  });

  it("shows partitions, offsets and sizes in the management API", async () => {
    await declareTopic("tp-meta", 3, { "x-max-age": "7D" });
    await produceOk("tp-meta", {
      messages: [
        { partition: 1, payload: "a" },
        { partition: 1, payload: "b" },
      ],
    });
    const topic = await json<{
      partitions: number;
      messages: number;
      partition_details: {
        partition: number;
        stream: string;
        first_offset: number;
        last_offset: number;
      }[];
    }>(await call("GET", "/api/topics/%2F/tp-meta"));
    expect(topic.partitions).toBe(3);
    expect(topic.messages).toBe(2);
    expect(topic.partition_details[1]).toMatchObject({
      stream: "tp-meta-1",
      first_offset: 0,
      last_offset: 1,
    });
    expect(topic.partition_details[0]).toMatchObject({ last_offset: -1 });
    const listed = await json<{ name: string; partitions: number }[]>(
      await call("GET", "/api/topics/%2F"),
    );
    expect(listed.find((t) => t.name === "tp-meta")?.partitions).toBe(3);
    // Each partition is a stream queue, as a super stream's partitions are.
    const queue = await json<{ type: string }>(await call("GET", "/api/queues/%2F/tp-meta-2"));
    expect(queue.type).toBe("stream");
  });

  it("stores a retried idempotent batch once and answers its first offsets", async () => {
    await declareTopic("tp-idem", 2);
    const batch = {
      producer_id: "producer-a",
      sequence: 0,
      messages: [{ key: "a", payload: "1" }, { key: "b", payload: "2" }, { payload: "3" }],
    };
    const first = await produceOk("tp-idem", batch);
    const retry = await produceOk("tp-idem", batch);
    expect(retry.duplicate).toBe(true);
    expect(retry.results).toEqual(first.results);
    const next = await produceOk("tp-idem", { ...batch, sequence: 1 });
    expect(next.duplicate).toBe(false);
    const stored = await Promise.all(
      [0, 1].map((p) => fetchPartition("tp-idem", p, { offset: "first" })),
    );
    expect(stored.flatMap((s) => s.messages)).toHaveLength(6);
  });

  it("takes produce frames on a producer WebSocket, answered in order with offsets", async () => {
    await declareTopic("tp-ws", 2);
    const producer = await openSocket("/api/topics/%2F/tp-ws/producer");
    producer.send({
      type: "produce",
      seq: 1,
      messages: [
        { key: "a", payload: "1" },
        { partition: 1, payload: "2" },
      ],
    });
    producer.send({ type: "produce", seq: 2, messages: [{ partition: 1, payload: "3" }] });
    producer.send({ type: "produce", seq: 3, messages: [{ partition: 9, payload: "x" }] });
    producer.send("not json");
    const first = await producer.next(isType("produce_ok"));
    expect(first).toMatchObject({ seq: 1, duplicate: false });
    expect((first.results as { partition: number }[]).map((r) => r.partition)).toEqual([
      kafkaPartition("a", 2),
      1,
    ]);
    expect(await producer.next(isType("produce_ok"))).toMatchObject({
      seq: 2,
      results: [{ partition: 1, offset: 1 }],
    });
    expect(await producer.next(isType("error"))).toMatchObject({ seq: 3, code: "bad_request" });
    expect((await producer.next(isType("error"))).code).toBe("bad_frame");
    producer.close();
  });

  it("refuses bad input with clear 4xx answers", async () => {
    await declareTopic("tp-bad", 2);
    await expectError(
      await produce("tp-bad", { messages: [{ partition: 2, payload: "x" }] }),
      400,
      "bad_request",
    );
    await expectError(await produce("tp-bad", { messages: [] }), 400, "bad_request");
    await expectError(await produce("tp-none", { messages: [{ payload: "x" }] }), 404);
    await expectError(
      await produce("tp-bad", { producer_id: "p", messages: [{ payload: "x" }] }),
      400,
    );
    await expectError(
      await call("POST", "/api/topics/%2F/tp-bad/partitions/5/fetch", {
        body: { offset: "first" },
      }),
      400,
      "bad_request",
    );
    await expectError(
      await call("POST", "/api/topics/%2F/tp-bad/partitions/0/fetch", { body: { offset: -1 } }),
      400,
      "bad_request",
    );
    await expectError(
      await call("PUT", "/api/topics/%2F/tp-bad", { body: { partitions: 3 } }),
      400,
    );
    await expectError(
      await call("PUT", "/api/topics/%2F/tp-zero", { body: { partitions: 0 } }),
      400,
    );
  });

  it("needs configure to declare, write to produce and read to fetch", async () => {
    await declareTopic("tp-acl", 1);
    const auth = await createUser("tp-reader", "pw");
    await grant("/", "tp-reader", "^nothing$", "^nothing$", "^tp-acl$");
    await expectError(
      await call("PUT", "/api/topics/%2F/tp-acl-2", { body: { partitions: 1 }, auth }),
      403,
    );
    await expectError(await produce("tp-acl", { messages: [{ payload: "x" }] }, auth), 403);
    const read = await call("POST", "/api/topics/%2F/tp-acl/partitions/0/fetch", {
      body: { offset: "first" },
      auth,
    });
    expect(read.status).toBe(200);
    const other = await createUser("tp-nobody", "pw");
    await grant("/", "tp-nobody", ".*", ".*", "^nothing$");
    await expectError(
      await call("POST", "/api/topics/%2F/tp-acl/partitions/0/fetch", {
        body: { offset: "first" },
        auth: other,
      }),
      403,
    );
  });
});

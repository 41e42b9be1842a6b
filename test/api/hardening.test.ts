/**
 * The five holes found under attack (issue 8), each shown closed: a caller's regex cannot stall
 * the broker, a large pull answers within its byte budget and leaves the rest ready, requeued
 * messages never reach a deleted user's socket, a socket belongs to the identity that logged in,
 * and strings that are not well-formed Unicode are refused where they enter.
 */
import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { LIMITS } from "../../src/config";
import { createUser, grant } from "../support/access";
import { call, declareQueue, GUEST, json, publish, seg } from "../support/api";
import { untilQueuePolls } from "../support/long-polls";
import { isType, openSocket } from "../support/socket";

const consumePath = (queue: string) => `/api/queues/%2F/${seg(queue)}/consume`;

interface QueueInfo {
  messages_ready: number;
  messages_unacknowledged: number;
  consumers: number;
}

const queueInfo = async (queue: string) =>
  json<QueueInfo>(await call("GET", `/api/queues/%2F/${seg(queue)}`));

describe("a caller's regex in a list filter", () => {
  it("runs in linear time: ^(a+)+$ against a queue named with 40 a's and a '!' answers at once", async () => {
    const name = `${"a".repeat(40)}!`;
    expect((await declareQueue(name)).status).toBe(201);
    const started = Date.now();
    const response = await call("GET", `/api/queues/%2F?use_regex=true&name=${seg("^(a+)+$")}`);
    expect(response.status).toBe(200);
    expect(await json<unknown[]>(response)).toEqual([]);
    // A backtracking engine takes 2^40 steps here; this is a hang guard, not a figure.
    expect(Date.now() - started).toBeLessThan(3000);
    const matching = await call("GET", `/api/queues/%2F?use_regex=true&name=${seg("^A+!$")}`);
    expect((await json<{ name: string }[]>(matching)).map((q) => q.name)).toEqual([name]);
  });

  it("is refused with 400 when it needs backtracking (lookaround, backreference)", async () => {
    for (const pattern of ["^(?!amq\\.)", "(a)\\1", "(unclosed"]) {
      const response = await call("GET", `/api/queues?use_regex=true&name=${seg(pattern)}`);
      expect(response.status).toBe(400);
      expect(await json(response)).toMatchObject({ error: "bad_request" });
    }
  });
});

describe("answers that carry messages stay within their byte budget", () => {
  const size = 60_000;
  const batch = (n: number) => ({
    messages: Array.from({ length: n }, (_, i) => ({
      properties: {},
      routing_key: "hd.pull",
      payload: btoa(String.fromCharCode(i % 256).repeat(size)),
      payload_encoding: "base64",
    })),
  });

  it("a long poll and a pull lease only what one answer carries, and the rest stays ready", async () => {
    await declareQueue("hd.pull");
    const total = Math.ceil((LIMITS.maxPullBytes * 1.2) / size);
    const pull = (count: number, waitMs = 0) =>
      call("POST", "/api/queues/%2F/hd.pull/pull", {
        body: { count, wait_ms: waitMs, visibility_timeout_ms: 600_000 },
      });
    const polling = pull(1000, 15_000);
    await untilQueuePolls("hd.pull");
    const published = await call("POST", "/api/exchanges/%2F/amq.default/publish-batch", {
      body: batch(total),
    });
    expect(published.status).toBe(200);
    const first = await polling;
    expect(first.status).toBe(200);
    const { messages } = await json<{ messages: { lease: string; payload: string }[] }>(first);
    expect(messages.length).toBeGreaterThan(0);
    expect(messages.length).toBeLessThan(total);
    expect(messages.length * size).toBeLessThanOrEqual(LIMITS.maxPullBytes);
    // Nothing leased beyond what was answered: the rest is ready for the next pull.
    expect(await queueInfo("hd.pull")).toMatchObject({
      messages_unacknowledged: messages.length,
      messages_ready: total - messages.length,
    });
    const second = await json<{ messages: unknown[] }>(await pull(1000));
    expect(second.messages.length).toBe(total - messages.length);
  });
});

describe("a socket whose user lost its rights", () => {
  it("gets no requeued message after its user is deleted: nack of a pull lease", async () => {
    await declareQueue("hd.requeue");
    for (const n of [1, 2, 3]) await publish("", "hd.requeue", `m${n}`);
    const pulled = await json<{ messages: { lease: string }[] }>(
      await call("POST", "/api/queues/%2F/hd.requeue/pull", { body: { count: 3 } }),
    );
    expect(pulled.messages).toHaveLength(3);
    const auth = await createUser("hd-requeue", "pw");
    await grant("/", "hd-requeue");
    const socket = await openSocket(consumePath("hd.requeue"), auth);
    socket.send({ type: "consume", tag: "c" });
    await socket.next(isType("consume_ok"));
    expect((await call("DELETE", "/api/users/hd-requeue")).status).toBe(204);
    const nacks = pulled.messages.map((m) => ({ lease: m.lease, requeue: true }));
    const settled = await call("POST", "/api/queues/%2F/hd.requeue/ack", { body: { nacks } });
    expect(settled.status).toBe(200);
    const frame = await socket.next((f) => f.type === "error" || f.type === "deliver");
    expect(frame).toMatchObject({ type: "error", code: "access_refused" });
    // The queue closes the socket right after the error: once closed, nothing more can arrive.
    await socket.whenClosed();
    expect(socket.all("deliver")).toEqual([]);
    expect(await queueInfo("hd.requeue")).toMatchObject({ messages_ready: 3, consumers: 0 });
  });

  it("gets nothing another consumer nacks once its read permission is revoked", async () => {
    await declareQueue("hd.nack");
    const auth = await createUser("hd-nack", "pw");
    await grant("/", "hd-nack");
    const other = await openSocket(consumePath("hd.nack"));
    other.send({ type: "consume", tag: "other", prefetch: 5 });
    await other.next(isType("consume_ok"));
    await publish("", "hd.nack", "m1");
    const delivered = await other.next(isType("deliver"));
    const socket = await openSocket(consumePath("hd.nack"), auth);
    socket.send({ type: "consume", tag: "c" });
    await socket.next(isType("consume_ok"));
    await grant("/", "hd-nack", ".*", ".*", "^nothing$");
    other.send({ type: "cancel", tag: "other" });
    await other.next(isType("cancel_ok"));
    other.send({ type: "nack", delivery_tag: delivered.delivery_tag, requeue: true });
    const frame = await socket.next((f) => f.type === "error" || f.type === "deliver");
    expect(frame).toMatchObject({ type: "error", code: "access_refused" });
    expect(socket.all("deliver")).toEqual([]);
    other.close();
  });
});

describe("a socket is bound to the identity that logged in", () => {
  it("closes a consumer whose user was deleted and created again with another password", async () => {
    await declareQueue("hd.identity");
    const auth = await createUser("hd-identity", "old");
    await grant("/", "hd-identity");
    const socket = await openSocket(consumePath("hd.identity"), auth);
    socket.send({ type: "consume", tag: "c" });
    await socket.next(isType("consume_ok"));
    expect((await call("DELETE", "/api/users/hd-identity")).status).toBe(204);
    await createUser("hd-identity", "new");
    await grant("/", "hd-identity");
    await publish("", "hd.identity", "for the new user only");
    const frame = await socket.next((f) => f.type === "error" || f.type === "deliver");
    expect(frame).toMatchObject({ type: "error", code: "access_refused" });
    // The queue closes the socket right after the error: once closed, nothing more can arrive.
    await socket.whenClosed();
    expect(socket.all("deliver")).toEqual([]);
    expect(await queueInfo("hd.identity")).toMatchObject({ messages_ready: 1, consumers: 0 });
  });

  it("closes a consumer whose user's password was set, and keeps one whose tags changed", async () => {
    await declareQueue("hd.password");
    await declareQueue("hd.tags");
    const auth = await createUser("hd-password", "old");
    await grant("/", "hd-password");
    const changed = await openSocket(consumePath("hd.password"), auth);
    changed.send({ type: "consume", tag: "c" });
    await changed.next(isType("consume_ok"));
    const tagAuth = await createUser("hd-tags", "pw");
    await grant("/", "hd-tags");
    const kept = await openSocket(consumePath("hd.tags"), tagAuth);
    kept.send({ type: "consume", tag: "c" });
    await kept.next(isType("consume_ok"));
    await createUser("hd-password", "new");
    const retagged = await call("PUT", "/api/users/hd-tags", { body: { tags: "management" } });
    expect(retagged.status).toBe(204);
    await publish("", "hd.password", "x");
    await publish("", "hd.tags", "y");
    expect(await changed.next((f) => f.type !== "consume_ok")).toMatchObject({
      type: "error",
      code: "access_refused",
    });
    expect(await kept.next(isType("deliver"))).toMatchObject({ payload: "y" });
    kept.close();
  });

  it("refuses a connection ticket issued before the user's password was set", async () => {
    const auth = await createUser("hd-ticket", "old");
    await grant("/", "hd-ticket");
    const issued = await call("POST", "/api/tickets", { auth, body: { vhost: "/" } });
    const { ticket } = await json<{ ticket: string }>(issued);
    await createUser("hd-ticket", "new");
    await expect(openSocket(`/api/publish/%2F?ticket=${ticket}`, null)).rejects.toThrow("401");
  });

  it("closes a producer whose user was deleted and created again", async () => {
    await declareQueue("hd.producer");
    const auth = await createUser("hd-producer", "old");
    await grant("/", "hd-producer");
    const socket = await openSocket("/api/publish/%2F", auth);
    const frame = (seq: number) => ({
      type: "publish",
      seq,
      exchange: "",
      routing_key: "hd.producer",
      payload: "p",
    });
    socket.send(frame(1));
    expect(await socket.next()).toMatchObject({ type: "confirm", seq: 1 });
    expect((await call("DELETE", "/api/users/hd-producer")).status).toBe(204);
    await createUser("hd-producer", "new");
    await grant("/", "hd-producer");
    socket.send(frame(2));
    expect(await socket.next()).toMatchObject({ type: "nack", seq: 2, code: "access_refused" });
    expect((await socket.whenClosed()).code).toBe(4003);
  });
});

describe("names and keys must be well-formed Unicode", () => {
  const loneSurrogate = '"k\\ud800"';
  const pairedSurrogates = '"k\\ud83d\\ude00"';

  it("refuses a publish whose routing key holds a lone surrogate, so routing cannot change after a restart", async () => {
    await declareQueue("hd.unicode");
    const raw = `{"properties":{},"routing_key":${loneSurrogate},"payload":"x","payload_encoding":"string"}`;
    const response = await call("POST", "/api/exchanges/%2F/amq.direct/publish", { raw });
    expect(response.status).toBe(400);
    expect(await json(response)).toMatchObject({ error: "bad_request" });
    const paired = raw.replace("\\ud800", "\\ud83d\\ude00");
    expect(
      (await call("POST", "/api/exchanges/%2F/amq.direct/publish", { raw: paired })).status,
    ).toBe(200);
  });

  it("refuses lone surrogates in batch publishes, bindings and definitions imports", async () => {
    await declareQueue("hd.unicode.b");
    // Each request is accepted with a well-formed string in the same place: the surrogate is
    // the one reason for the 400.
    const cases: [string, string, (text: string) => string][] = [
      [
        "POST",
        "/api/exchanges/%2F/amq.direct/publish-batch",
        (text) =>
          `{"messages":[{"properties":{"headers":{${text}:1}},"routing_key":"k","payload":"x","payload_encoding":"string"}]}`,
      ],
      [
        "POST",
        "/api/bindings/%2F/e/amq.direct/q/hd.unicode.b",
        (text) => `{"routing_key":${text}}`,
      ],
      [
        "POST",
        "/api/definitions",
        (text) =>
          `{"queues":[{"name":${text.replace('"k', '"hd.q')},"vhost":"/","durable":true,"auto_delete":false,"arguments":{}}]}`,
      ],
    ];
    for (const [method, path, body] of cases) {
      const refused = await call(method, path, { raw: body(loneSurrogate) });
      expect(refused.status, path).toBe(400);
      expect(await json(refused)).toMatchObject({ error: "bad_request" });
      const accepted = await call(method, path, { raw: body(pairedSurrogates) });
      expect(accepted.status, path).toBeLessThan(300);
    }
    const queues = await json<{ name: string }[]>(await call("GET", "/api/queues/%2F"));
    expect(queues.filter((q) => q.name.startsWith("hd.q")).map((q) => q.name)).toEqual([
      "hd.q\ud83d\ude00",
    ]);
  });

  it("refuses a body that is not UTF-8", async () => {
    await declareQueue("hd.bytes");
    const body = (payload: number[]) =>
      new Uint8Array([
        ...new TextEncoder().encode('{"properties":{},"routing_key":"hd.bytes","payload":"'),
        ...payload,
        ...new TextEncoder().encode('","payload_encoding":"string"}'),
      ]);
    const path = "/api/exchanges/%2F/amq.default/publish";
    expect((await postBytes(path, body([0xff, 0xfe]))).status).toBe(400);
    expect((await postBytes(path, body([0xc3, 0xa9]))).status).toBe(200);
  });

  it("answers one error per frame with a lone surrogate, on consumer and producer sockets", async () => {
    await declareQueue("hd.frames");
    const consumer = await openSocket(consumePath("hd.frames"));
    consumer.send(`{"type":"consume","tag":${loneSurrogate}}`);
    expect(await consumer.next()).toMatchObject({ type: "error", code: "bad_frame" });
    consumer.send({ type: "consume", tag: "ok" });
    expect(await consumer.next()).toMatchObject({ type: "consume_ok", tag: "ok" });
    consumer.close();
    const producer = await openSocket("/api/publish/%2F");
    producer.send(
      `{"type":"publish","seq":1,"exchange":"","routing_key":${loneSurrogate},"payload":"x"}`,
    );
    expect(await producer.next()).toMatchObject({ type: "error", code: "bad_frame" });
    producer.send({
      type: "publish",
      seq: 2,
      exchange: "",
      routing_key: "hd.frames",
      payload: "x",
    });
    expect(await producer.next()).toMatchObject({ type: "confirm", seq: 2, routed: true });
    producer.close();
  });
});

async function postBytes(path: string, body: Uint8Array): Promise<Response> {
  return exports.default.fetch(
    new Request(`http://broker.test${path}`, {
      method: "POST",
      headers: { Authorization: GUEST, "Content-Type": "application/json" },
      body,
    }),
  );
}

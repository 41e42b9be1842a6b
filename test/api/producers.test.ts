import { describe, expect, it } from "vitest";
import { bindQueue, declareExchange, declareQueue, drain } from "../support/api";
import { type Frame, isType, openSocket, type TestSocket } from "../support/socket";

const producer = () => openSocket("/api/publish/%2F");

function frame(
  seq: number,
  exchange: string,
  routing_key: string,
  payload: string,
  extra: Record<string, unknown> = {},
) {
  return { type: "publish", seq, exchange, routing_key, payload, ...extra };
}

/** Expands confirm/nack frames (multiple covers every outstanding seq up to it) to per-seq verdicts. */
async function verdicts(socket: TestSocket, seqs: number[]): Promise<Map<number, string>> {
  const out = new Map<number, string>();
  const outstanding = [...seqs];
  while (outstanding.length > 0) {
    const f: Frame = await socket.next((x) => x.type === "confirm" || x.type === "nack");
    const seq = f.seq as number;
    const covered =
      f.type === "confirm" && f.multiple ? outstanding.filter((s) => s <= seq) : [seq];
    for (const s of covered) {
      out.set(s, f.type === "nack" ? `nack:${f.code}` : f.routed ? "routed" : "unroutable");
      outstanding.splice(outstanding.indexOf(s), 1);
    }
  }
  return out;
}

describe("publisher confirms over WebSocket", () => {
  it("confirms each sequence number once the copies are stored, routed or not", async () => {
    await declareQueue("prod.q");
    const socket = await producer();
    socket.send(frame(1, "", "prod.q", "first"));
    expect(await socket.next()).toEqual({ type: "confirm", seq: 1, multiple: false, routed: true });
    socket.send(frame(2, "amq.default", "prod.nowhere", "lost"));
    expect(await socket.next()).toEqual({
      type: "confirm",
      seq: 2,
      multiple: false,
      routed: false,
    });
    expect(await drain("prod.q")).toEqual(["first"]);
  });

  it("confirms pipelined publishes in order, batching runs with multiple", async () => {
    await declareExchange("prod.x", "topic");
    await declareQueue("prod.pipe");
    await bindQueue("prod.x", "prod.pipe", "order.*");
    const socket = await producer();
    const seqs = Array.from({ length: 60 }, (_, i) => i + 1);
    for (const seq of seqs) {
      const key = seq % 10 === 0 ? "invoice.created" : "order.created";
      socket.send(frame(seq, "prod.x", key, `m${seq}`, { properties: { message_id: `id${seq}` } }));
    }
    const result = await verdicts(socket, seqs);
    expect([...result.keys()].sort((a, b) => a - b)).toEqual(seqs);
    for (const seq of seqs) {
      expect(result.get(seq)).toBe(seq % 10 === 0 ? "unroutable" : "routed");
    }
    const confirms = socket.all("confirm");
    // Pipelined frames are group-committed, so runs of confirms leave as one `multiple` frame.
    expect(confirms.some((f) => f.multiple === true)).toBe(true);
    const confirmedSeqs = confirms.map((f) => f.seq as number);
    expect(confirmedSeqs).toEqual([...confirmedSeqs].sort((a, b) => a - b));
    expect(await drain("prod.pipe")).toEqual(seqs.filter((s) => s % 10 !== 0).map((s) => `m${s}`));
  });

  it("nacks a publish the broker refuses, with the reason, and keeps confirming others", async () => {
    await declareQueue("prod.nack");
    await declareExchange("prod.internal", "fanout", { internal: true });
    const socket = await producer();
    socket.send(frame(1, "prod.missing", "k", "x"));
    socket.send(frame(2, "", "prod.nack", "x".repeat(65 * 1024)));
    socket.send(frame(3, "", "prod.nack", "%%%", { payload_encoding: "base64" }));
    socket.send(frame(4, "prod.internal", "k", "x"));
    socket.send(frame(5, "", "prod.nack", "ok", { properties: { delivery_mode: 7 } }));
    socket.send(frame(6, "", "prod.nack", "ok"));
    const result = await verdicts(socket, [1, 2, 3, 4, 5, 6]);
    expect(Object.fromEntries(result)).toEqual({
      1: "nack:not_found",
      2: "nack:payload_too_large",
      3: "nack:bad_request",
      4: "nack:access_refused",
      5: "nack:bad_request",
      6: "routed",
    });
    expect(await drain("prod.nack")).toEqual(["ok"]);
  });
});

describe("bad input on a producer socket", () => {
  it("answers error frames for frames it cannot read and keeps the connection working", async () => {
    await declareQueue("prod.bad");
    const socket = await producer();
    socket.send("not json");
    expect(await socket.next()).toMatchObject({ type: "error", code: "bad_frame" });
    socket.send({ type: "subscribe" });
    expect(await socket.next()).toMatchObject({ type: "error", code: "unknown_frame" });
    socket.send({ type: "publish", seq: "one", exchange: "" });
    expect(await socket.next()).toMatchObject({ type: "error", code: "bad_frame" });
    socket.send(frame(5, "", "prod.bad", "five"));
    await socket.next(isType("confirm"));
    socket.send(frame(5, "", "prod.bad", "again"));
    expect(await socket.next()).toMatchObject({ type: "error", code: "bad_seq" });
    socket.send(JSON.stringify(frame(6, "", "prod.bad", "y".repeat(400 * 1024))));
    expect(await socket.next()).toMatchObject({ type: "error", code: "frame_too_large" });
    socket.send(frame(7, "", "prod.bad", "seven"));
    // A confirm means stored: the queue holds both at once.
    expect(await socket.next()).toMatchObject({ type: "confirm", seq: 7, routed: true });
    expect(await drain("prod.bad")).toEqual(["five", "seven"]);
  });

  it("refuses unauthenticated upgrades with 401 and unknown vhosts with 404", async () => {
    await expect(openSocket("/api/publish/%2F", null)).rejects.toThrow("401");
    await expect(openSocket("/api/publish/no-such-vhost")).rejects.toThrow("404");
  });
});

import { describe, expect, it, vi } from "vitest";
import { createUser, createVhost, grant } from "../support/access";
import { call } from "../support/api";
import { type Frame, isType, openSocket, type TestSocket } from "../support/socket";
import { appendBatch, declareStream } from "./support";
// CreditGate's own tests (src/streams/credit-gate.ts) run in this file's runtime.
import "./credit-gate.suite";
import { EVENTUALLY } from "../support/barriers";

const payloadsOf = (frame: Frame): string[] =>
  (frame.messages as { payload: string }[]).map((m) => m.payload);

async function collect(
  socket: TestSocket,
  n: number,
): Promise<{ frames: number; payloads: string[] }> {
  const payloads: string[] = [];
  let frames = 0;
  while (payloads.length < n) {
    payloads.push(...payloadsOf(await socket.next(isType("deliver"))));
    frames++;
  }
  return { frames, payloads };
}

describe("stream readers on a WebSocket", () => {
  it("delivers from the offset spec, many messages per frame", async () => {
    await declareStream("ws-first");
    await appendBatch(
      "ws-first",
      Array.from({ length: 200 }, (_, i) => `m${i}`),
    );
    const reader = await openSocket("/api/streams/%2F/ws-first/consume");
    reader.send({ type: "subscribe", offset: "first", credit: 1000 });
    expect((await reader.next(isType("subscribe_ok"))).offset).toBe(0);
    const got = await collect(reader, 200);
    expect(got.payloads).toEqual(Array.from({ length: 200 }, (_, i) => `m${i}`));
    expect(got.frames).toBeLessThan(200);
    reader.close();
  });

  it("never sends more than the credit granted, and resumes on more credit", async () => {
    await declareStream("ws-credit");
    await appendBatch("ws-credit", ["a", "b", "c", "d", "e", "f", "g"]);
    const reader = await openSocket("/api/streams/%2F/ws-credit/consume");
    reader.send({ type: "subscribe", offset: 1, credit: 2 });
    expect((await reader.next(isType("subscribe_ok"))).offset).toBe(1);
    // Frame by frame, each exactly what its grant allows, the grants of different sizes: a
    // message sent beyond the credit would make a frame out of this sequence. (CreditGate's
    // arithmetic is tested directly in test/streams/credit-gate.suite.ts.)
    const nextFrame = async () => payloadsOf(await reader.next(isType("deliver")));
    expect(await nextFrame()).toEqual(["b", "c"]);
    reader.send({ type: "credit", credit: 3 });
    expect(await nextFrame()).toEqual(["d", "e", "f"]);
    reader.send({ type: "credit", credit: 10 });
    expect(await nextFrame()).toEqual(["g"]);
    await appendBatch("ws-credit", ["h"]);
    expect(await nextFrame()).toEqual(["h"]);
    expect(reader.all("deliver")).toHaveLength(4);
    reader.close();
  });

  it("with offset next, delivers only what is appended after subscribing", async () => {
    await declareStream("ws-next");
    await appendBatch("ws-next", ["before"]);
    const reader = await openSocket("/api/streams/%2F/ws-next/consume");
    reader.send({ type: "subscribe", offset: "next", credit: 10 });
    await reader.next(isType("subscribe_ok"));
    await appendBatch("ws-next", ["after-1", "after-2"]);
    expect((await collect(reader, 2)).payloads).toEqual(["after-1", "after-2"]);
    reader.close();
  });

  it("keeps a fast reader going while another reader has no credit", async () => {
    await declareStream("ws-two");
    const slow = await openSocket("/api/streams/%2F/ws-two/consume");
    slow.send({ type: "subscribe", offset: "first", credit: 1 });
    const fast = await openSocket("/api/streams/%2F/ws-two/consume");
    fast.send({ type: "subscribe", offset: "first", credit: 1000 });
    await Promise.all([slow.next(isType("subscribe_ok")), fast.next(isType("subscribe_ok"))]);
    for (let i = 0; i < 5; i++) await appendBatch("ws-two", [`x${i}`]);
    expect((await collect(fast, 5)).payloads).toEqual(["x0", "x1", "x2", "x3", "x4"]);
    expect((await collect(slow, 1)).payloads).toEqual(["x0"]);
    slow.close();
    fast.close();
  });

  it("answers bad frames and offsets with error frames", async () => {
    await declareStream("ws-bad");
    const reader = await openSocket("/api/streams/%2F/ws-bad/consume");
    reader.send({ type: "subscribe", offset: -3 });
    expect((await reader.next(isType("error"))).code).toBe("bad_frame");
    reader.send({ type: "credit", credit: 5 });
    expect((await reader.next(isType("error"))).code).toBe("bad_frame");
    reader.send({ type: "subscribe", offset: 99 });
    expect((await reader.next(isType("error"))).code).toBe("bad_request");
    reader.close();
  });

  it("counts stream readers and group members against the vhost's max-connections", async () => {
    await createVhost("ws-limited");
    await grant("ws-limited", "guest");
    await declareStream("ws-limited-stream", {}, "ws-limited");
    const limit = await call("PUT", "/api/vhost-limits/ws-limited/max-connections", {
      body: { value: 1 },
    });
    expect([201, 204]).toContain(limit.status);
    const reader = await openSocket("/api/streams/ws-limited/ws-limited-stream/consume");
    await expect(openSocket("/api/streams/ws-limited/ws-limited-stream/consume")).rejects.toThrow(
      /403/,
    );
    await expect(openSocket("/api/groups/ws-limited/ws-limited-group/consume")).rejects.toThrow(
      /403/,
    );
    reader.close();
    // Its place in the count is freed after the close, off the socket's path: wait for that.
    const member = await vi.waitFor(
      () => openSocket("/api/groups/ws-limited/ws-limited-group/consume"),
      EVENTUALLY,
    );
    member.close();
  });

  it("ends a reader whose read permission is revoked, at its next read", async () => {
    await declareStream("ws-revoked");
    const auth = await createUser("ws-revoked-user", "pw");
    await grant("/", "ws-revoked-user", ".*", ".*", ".*");
    const reader = await openSocket("/api/streams/%2F/ws-revoked/consume", auth);
    reader.send({ type: "subscribe", offset: "next", credit: 10 });
    await reader.next(isType("subscribe_ok"));
    await grant("/", "ws-revoked-user", ".*", ".*", "^other$");
    await appendBatch("ws-revoked", ["secret"]);
    expect((await reader.next(isType("error"), 8000)).code).toBe("access_refused");
    expect(reader.all("deliver")).toEqual([]);
  }, 15_000);

  it("refuses a reader without read permission on the stream", async () => {
    await declareStream("ws-private");
    const auth = await createUser("ws-no-read", "pw");
    await grant("/", "ws-no-read", ".*", ".*", "^other$");
    await expect(openSocket("/api/streams/%2F/ws-private/consume", auth)).rejects.toThrow(/403/);
  });
});

/**
 * The hibernating-WebSocket base (src/runtime/hibernating-object.ts), seen through a queue's
 * consumer sockets: the runtime answers the keep-alive ping, a socket's frames are handled in
 * the order they arrive, and a close is answered with the peer's code once the socket's state is
 * gone.
 */
import { describe, expect, it } from "vitest";
import { call, declareQueue, json, publish } from "../support/api";
import { deliveries, openConsumer, type TestSocket } from "../support/socket";

interface QueueInfo {
  messages_ready: number;
  messages_unacknowledged: number;
  consumers: number;
}

const info = async (queue: string) =>
  json<QueueInfo>(await call("GET", `/api/queues/%2F/${queue}`));

function closed(socket: TestSocket): Promise<{ code: number; reason: string }> {
  return new Promise((resolve) => {
    socket.ws.addEventListener("close", (event) =>
      resolve({ code: event.code, reason: event.reason }),
    );
  });
}

describe("a hibernating object's sockets", () => {
  it("have their frames handled in arrival order", async () => {
    await declareQueue("hib.order");
    const socket = await openConsumer("hib.order");
    // Taken out of order, a consume would find its tag still in use or a cancel find none.
    for (let i = 0; i < 10; i++) {
      socket.send({ type: "consume", tag: "c" });
      socket.send({ type: "cancel", tag: "c" });
    }
    socket.send({ type: "consume", tag: "last" });
    await socket.next((f) => f.type === "consume_ok" && f.tag === "last");
    const answers = socket.frames.map((f) => `${f.type}:${String(f.tag)}`);
    expect(answers).toEqual([
      ...Array.from({ length: 10 }, () => ["consume_ok:c", "cancel_ok:c"]).flat(),
      "consume_ok:last",
    ]);
    expect(await info("hib.order")).toMatchObject({ consumers: 1 });
    socket.close();
    // The first test of a file also pays for starting the Workers runtime.
  }, 20_000);

  it("get the exact pong for the keep-alive ping", async () => {
    await declareQueue("hib.ping");
    const socket = await openConsumer("hib.ping");
    socket.send('{"type":"ping"}');
    expect(await socket.next()).toEqual({ type: "pong" });
    socket.close();
  });

  it("answer a close with the peer's code after returning the socket's deliveries", async () => {
    await declareQueue("hib.close");
    await publish("", "hib.close", "held");
    const socket = await openConsumer("hib.close");
    socket.send({ type: "consume", tag: "c" });
    await deliveries(socket, 1);
    const answer = closed(socket);
    socket.ws.close(4001, "going away");
    expect(await answer).toEqual({ code: 4001, reason: "going away" });
    expect(await info("hib.close")).toMatchObject({
      messages_ready: 1,
      messages_unacknowledged: 0,
      consumers: 0,
    });
  });

  it("answer a close without a code as a normal close", async () => {
    await declareQueue("hib.nocode");
    const socket = await openConsumer("hib.nocode");
    const answer = closed(socket);
    socket.ws.close();
    expect((await answer).code).toBe(1000);
  });
});

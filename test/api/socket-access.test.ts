import { describe, expect, it, vi } from "vitest";
import { createUser, createVhost, grant } from "../support/access";
import { call, declareQueue, json, publish } from "../support/api";
import { EVENTUALLY } from "../support/barriers";
import { isType, openSocket } from "../support/socket";

const consumePath = (vhost: string, queue: string) =>
  `/api/queues/${encodeURIComponent(vhost)}/${encodeURIComponent(queue)}/consume`;
const publishPath = (vhost: string) => `/api/publish/${encodeURIComponent(vhost)}`;

async function ticket(auth: string, vhost: string): Promise<string> {
  const response = await call("POST", "/api/tickets", { auth, body: { vhost } });
  expect(response.status).toBe(201);
  return (await json<{ ticket: string }>(response)).ticket;
}

describe("who may open a consumer connection", () => {
  it("lets a user with read on the queue consume, and refuses one without with 403", async () => {
    await declareQueue("sa.q");
    const reader = await createUser("sa-reader", "pw");
    await grant("/", "sa-reader", "", "", "^sa\\.q$");
    const writer = await createUser("sa-writer", "pw");
    await grant("/", "sa-writer", ".*", ".*", "^nothing$");
    const socket = await openSocket(consumePath("/", "sa.q"), reader);
    socket.send({ type: "consume", tag: "c" });
    await socket.next(isType("consume_ok"));
    await expect(openSocket(consumePath("/", "sa.q"), writer)).rejects.toThrow("403");
  });

  it("refuses a user without access to the vhost with 403 and a wrong password with 401", async () => {
    await createVhost("sa-other");
    const stranger = await createUser("sa-stranger", "pw");
    await grant("sa-other", "sa-stranger");
    await declareQueue("sa.vh");
    await expect(openSocket(consumePath("/", "sa.vh"), stranger)).rejects.toThrow("403");
    await expect(openSocket(publishPath("/"), stranger)).rejects.toThrow("403");
    await expect(
      openSocket(consumePath("/", "sa.vh"), `Basic ${btoa("sa-stranger:wrong")}`),
    ).rejects.toThrow("401");
  });

  it("ends a consumer's connection when its user is deleted while it is open", async () => {
    await declareQueue("sa.deleted");
    const auth = await createUser("sa-doomed", "pw");
    await grant("/", "sa-doomed");
    const socket = await openSocket(consumePath("/", "sa.deleted"), auth);
    socket.send({ type: "consume", tag: "c" });
    await socket.next(isType("consume_ok"));
    expect((await call("DELETE", "/api/users/sa-doomed")).status).toBe(204);
    await publish("", "sa.deleted", "secret");
    const frame = await socket.next((f) => f.type === "error" || f.type === "deliver", 7000);
    expect(frame).toMatchObject({ type: "error", code: "access_refused" });
    // The queue closes the socket right after the error: once closed, nothing more can arrive.
    await socket.whenClosed();
    expect(socket.all("deliver")).toEqual([]);
    const info = await json<{ messages_ready: number; consumers: number }>(
      await call("GET", "/api/queues/%2F/sa.deleted"),
    );
    expect(info).toMatchObject({ messages_ready: 1, consumers: 0 });
  });

  it("refuses the next frame of a consumer whose read permission was revoked", async () => {
    await declareQueue("sa.revoked");
    const auth = await createUser("sa-revoked", "pw");
    await grant("/", "sa-revoked");
    const socket = await openSocket(consumePath("/", "sa.revoked"), auth);
    await grant("/", "sa-revoked", ".*", ".*", "^nothing$");
    socket.send({ type: "consume", tag: "c" });
    expect(await socket.next()).toMatchObject({ type: "error", code: "access_refused" });
  });
});

describe("who may publish on a producer connection", () => {
  it("nacks publishes to exchanges the user may not write, and confirms the others", async () => {
    await declareQueue("sa.pub");
    const auth = await createUser("sa-producer", "pw");
    await grant("/", "sa-producer", "", "^amq\\.default$", "");
    const socket = await openSocket(publishPath("/"), auth);
    socket.send({ type: "publish", seq: 1, exchange: "amq.topic", routing_key: "k", payload: "x" });
    expect(await socket.next()).toMatchObject({ type: "nack", seq: 1, code: "access_refused" });
    socket.send({ type: "publish", seq: 2, exchange: "", routing_key: "sa.pub", payload: "ok" });
    expect(await socket.next()).toMatchObject({ type: "confirm", seq: 2, routed: true });
    socket.send({
      type: "publish",
      seq: 3,
      exchange: "",
      routing_key: "sa.pub",
      payload: "forged",
      properties: { user_id: "guest" },
    });
    expect(await socket.next()).toMatchObject({ type: "nack", seq: 3, code: "bad_request" });
  });

  it("ends a producer's connection when its user is deleted", async () => {
    await declareQueue("sa.pubgone");
    const auth = await createUser("sa-pubgone", "pw");
    await grant("/", "sa-pubgone");
    const socket = await openSocket(publishPath("/"), auth);
    socket.send({ type: "publish", seq: 1, exchange: "", routing_key: "sa.pubgone", payload: "a" });
    await socket.next(isType("confirm"));
    await call("DELETE", "/api/users/sa-pubgone");
    socket.send({ type: "publish", seq: 2, exchange: "", routing_key: "sa.pubgone", payload: "b" });
    expect(await socket.next()).toMatchObject({ type: "nack", seq: 2, code: "access_refused" });
    expect((await socket.whenClosed()).code).toBe(4003);
  });
});

describe("connection tickets on upgrades", () => {
  it("opens a socket with a ticket instead of credentials, once", async () => {
    await declareQueue("sa.ticket");
    const auth = await createUser("sa-browser", "pw");
    await grant("/", "sa-browser");
    const t = await ticket(auth, "/");
    const socket = await openSocket(`${consumePath("/", "sa.ticket")}?ticket=${t}`, null);
    socket.send({ type: "consume", tag: "c" });
    await socket.next(isType("consume_ok"));
    await expect(openSocket(`${consumePath("/", "sa.ticket")}?ticket=${t}`, null)).rejects.toThrow(
      "401",
    );
  });

  it("refuses a ticket issued for another vhost and a made-up one", async () => {
    await createVhost("sa-tvh");
    const auth = await createUser("sa-tvh-user", "pw");
    await grant("/", "sa-tvh-user");
    await grant("sa-tvh", "sa-tvh-user");
    const t = await ticket(auth, "sa-tvh");
    await expect(openSocket(`${publishPath("/")}?ticket=${t}`, null)).rejects.toThrow("403");
    await expect(openSocket(`${publishPath("/")}?ticket=nonsense`, null)).rejects.toThrow("401");
  });
});

describe("the vhost's max-connections limit", () => {
  it("refuses a connection beyond the limit until one closes", async () => {
    await createVhost("sa-limited");
    const auth = await createUser("sa-limited-user", "pw");
    await grant("sa-limited", "sa-limited-user");
    await declareQueue("sa.lq", {}, "sa-limited");
    const limit = await call("PUT", "/api/vhost-limits/sa-limited/max-connections", {
      body: { value: 2 },
    });
    expect([201, 204]).toContain(limit.status);
    const consumer = await openSocket(consumePath("sa-limited", "sa.lq"), auth);
    const producer = await openSocket(publishPath("sa-limited"), auth);
    await expect(openSocket(consumePath("sa-limited", "sa.lq"), auth)).rejects.toThrow("403");
    await expect(openSocket(publishPath("sa-limited"), auth)).rejects.toThrow("403");
    // A close frees its place in the vhost's count after the close (off the socket's path):
    // wait for that, a refused upgrade at a time.
    const reopen = (path: string) => vi.waitFor(() => openSocket(path, auth), EVENTUALLY);
    consumer.close();
    const again = await reopen(consumePath("sa-limited", "sa.lq"));
    producer.close();
    const producerAgain = await reopen(publishPath("sa-limited"));
    again.close();
    producerAgain.close();
  });
});

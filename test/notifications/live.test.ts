import { evictDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { call, json, publish } from "../support/api";
import { createUsers, type Frame, live, notify } from "../support/notifications";

const inbox = (id: number) => env.INBOXES.getByName(JSON.stringify(["/", String(id)]));
const messageOf = (frame: Frame) => (frame.notification as { message: string }).message;

describe("live delivery", () => {
  it("greets with the user and counts, then pushes each notification as it is stored", async () => {
    await createUsers([
      [401, "Nia"],
      [402, "Oto"],
    ]);
    await notify(402, 401, "before connecting");
    const socket = await live(401);
    const hello = await socket.next();
    expect(hello).toMatchObject({
      type: "hello",
      user: { id: 401, name: "Nia" },
      counts: { total: 1, unread: 1, unseen: 1, archived: 0 },
      resync: false,
      backlog: 0,
    });
    await notify(402, 401, "live one");
    const pushed = await socket.next();
    expect(pushed).toMatchObject({
      type: "notification",
      notification: { from: { id: 402, name: "Oto" }, to: { id: 401, name: "Nia" } },
      counts: { total: 2, unread: 2 },
    });
    expect(messageOf(pushed)).toBe("live one");
    expect(pushed.cursor).toBe(String((pushed.notification as { id: number }).id));
    socket.close();
  });

  it("delivers what any broker client publishes to the notifications exchange", async () => {
    await createUsers([[411, "Pia"]]);
    const socket = await live(411);
    await socket.next();
    const response = await publish("notifications", "411", "plain text from a broker client");
    expect(await response.json()).toEqual({ routed: true });
    const frame = await socket.nextOf("notification");
    expect(frame.notification).toMatchObject({
      from: null,
      to: { id: 411, name: "Pia" },
      message: "plain text from a broker client",
    });
    socket.close();
  });

  it("resumes after a reconnect with no gap and no duplicate", async () => {
    await createUsers([
      [421, "Quin"],
      [422, "Rae"],
    ]);
    const first = await live(421, { after: "0" });
    await first.next();
    await notify(422, 421, "m1");
    await notify(422, 421, "m2");
    await first.nextOf("notification");
    const last = await first.nextOf("notification");
    first.close();
    // Sent while no socket was open.
    await notify(422, 421, "m3");
    await notify(422, 421, "m4");
    const second = await live(421, { after: String(last.cursor) });
    const hello = await second.next();
    expect(hello).toMatchObject({ type: "hello", backlog: 2, resync: false });
    await notify(422, 421, "m5");
    const received = [await second.next(), await second.next(), await second.next()];
    expect(received.map(messageOf)).toEqual(["m3", "m4", "m5"]);
    await second.barrier();
    expect(second.frames).toHaveLength(4);
    second.close();
  });

  it("sends the whole retained inbox, oldest first, to a socket resuming from 0", async () => {
    await createUsers([
      [431, "Sol"],
      [432, "Tam"],
    ]);
    await notify(432, 431, "a");
    await notify(432, 431, "b");
    const socket = await live(431, { after: "0" });
    expect((await socket.next()).backlog).toBe(2);
    expect([messageOf(await socket.next()), messageOf(await socket.next())]).toEqual(["a", "b"]);
    socket.close();
  });

  it("tells a socket resuming from before retention's cut to resync", async () => {
    await createUsers([
      [441, "Uma"],
      [442, "Vic"],
    ]);
    for (let i = 0; i < 32; i++) await notify(442, 441, `n${i}`);
    const socket = await live(441, { after: "1" });
    expect(await socket.next()).toMatchObject({ type: "hello", resync: true, backlog: 30 });
    socket.close();
  });

  it("keeps sockets across hibernation: delivers and takes frames after eviction", async () => {
    await createUsers([
      [451, "Wes"],
      [452, "Xia"],
    ]);
    const socket = await live(451);
    await socket.next();
    await evictDurableObject(inbox(451));
    await notify(452, 451, "after eviction");
    const frame = await socket.nextOf("notification");
    expect(messageOf(frame)).toBe("after eviction");
    await evictDurableObject(inbox(451));
    socket.socket.send(JSON.stringify({ type: "mark_all_read" }));
    const state = await socket.nextOf("state");
    expect(state).toMatchObject({ state: "read", ids: "all", counts: { unread: 0 } });
    socket.close();
  });

  it("answers pings with pongs, and malformed frames with an error frame", async () => {
    await createUsers([[461, "Yul"]]);
    const socket = await live(461);
    await socket.next();
    socket.socket.send('{"type":"ping"}');
    expect(await socket.next()).toEqual({ type: "pong" });
    socket.socket.send('{ "type": "ping" }');
    expect(await socket.next()).toEqual({ type: "pong" });
    for (const bad of ["not json", "[]", '{"type":"mark_read","ids":[]}', '{"type":"nope"}']) {
      socket.socket.send(bad);
      expect(await socket.next()).toEqual({ type: "error", reason: "malformed frame" });
    }
    socket.socket.send(new Uint8Array([1, 2, 3]));
    expect(await socket.next()).toEqual({ type: "error", reason: "malformed frame" });
    socket.close();
  });
});

describe("deleting a user", () => {
  it("closes the user's live sockets", async () => {
    await createUsers([[471, "Zia"]]);
    const socket = await live(471);
    await socket.next();
    const closed = new Promise<number>((resolve) => {
      socket.socket.addEventListener("close", (event) => resolve(event.code));
    });
    expect((await call("DELETE", "/api/notification-users/%2F/471")).status).toBe(204);
    expect(await closed).toBe(1000);
  });
});

describe("multi-device state sync", () => {
  it("reaches every device of the user with the change and the new counts", async () => {
    await createUsers([
      [501, "Zed"],
      [502, "Abe"],
    ]);
    const phone = await live(501);
    const laptop = await live(501);
    await phone.next();
    await laptop.next();
    await notify(502, 501, "one");
    await notify(502, 501, "two");
    const one = await phone.nextOf("notification");
    await phone.nextOf("notification");
    await laptop.nextOf("notification");
    await laptop.nextOf("notification");
    const id = (one.notification as { id: number }).id;
    phone.socket.send(JSON.stringify({ type: "mark_read", ids: [id] }));
    for (const device of [phone, laptop]) {
      expect(await device.nextOf("state")).toMatchObject({
        state: "read",
        ids: [id],
        counts: { total: 2, unread: 1, unseen: 1 },
      });
    }
    // A change over HTTP reaches the sockets too.
    const archived = await call("POST", "/notifications/501/mark", {
      body: { state: "archived", ids: [id] },
    });
    expect((await json<{ changed: number[] }>(archived)).changed).toEqual([id]);
    for (const device of [phone, laptop]) {
      expect(await device.nextOf("state")).toMatchObject({
        state: "archived",
        counts: { total: 1, archived: 1 },
      });
    }
    phone.close();
    laptop.close();
  });
});

import { describe, expect, it } from "vitest";
import { call, json, publish } from "../support/api";
import { createUsers, notify, openLive, sendForm, sendJson } from "../support/notifications";

/** Every answer of the notification app is JSON with a `message`, never a 500. */
async function expectMessage(response: Response, status: number): Promise<string> {
  const text = await response.text();
  expect(response.status, text).toBe(status);
  const body = JSON.parse(text) as { message?: unknown };
  expect(typeof body.message).toBe("string");
  return body.message as string;
}

describe("bad input to the notification app", () => {
  it("answers 404 User not found on the inbox API for an unknown user", async () => {
    for (const path of [
      "/notifications/8001/inbox",
      "/notifications/8001/counts",
      "/notifications/abc/inbox",
    ]) {
      expect(await expectMessage(await call("GET", path), 404)).toBe("User not found");
    }
    const mark = await call("POST", "/notifications/8001/mark", {
      body: { state: "read", all: true },
    });
    expect(await expectMessage(mark, 404)).toBe("User not found");
    const socket = await openLive(8001);
    expect(socket.status).toBe(404);
  });

  it("refuses an oversized message with 413, at the limit it is accepted", async () => {
    await createUsers([
      [811, "Ola"],
      [812, "Pim"],
    ]);
    const reason = await expectMessage(
      await sendForm(`fromID=812&toID=811&message=${"x".repeat(4097)}`),
      413,
    );
    expect(reason).toBe("message is larger than 4096 bytes");
    expect((await sendForm(`fromID=812&toID=811&message=${"x".repeat(4096)}`)).status).toBe(200);
    const hugeData = { blob: "y".repeat(17 * 1024) };
    await expectMessage(
      await sendJson({ fromID: 812, toID: 811, message: "m", data: hugeData }),
      413,
    );
    await expectMessage(await sendJson({ fromID: 812, toID: 811, message: "m", data: [1] }), 400);
    await expectMessage(await sendJson({ fromID: 812, toID: 811, message: 5 }), 400);
    await expectMessage(await sendForm("x".repeat(70 * 1024)), 413);
  });

  it("cuts an oversized payload published over the broker API and flags it truncated", async () => {
    await createUsers([[821, "Quy"]]);
    const big = JSON.stringify({ message: "z".repeat(5000), data: { v: "w".repeat(20_000) } });
    expect(await (await publish("notifications", "821", big)).json()).toEqual({ routed: true });
    const page = await json<{
      notifications: { message: string; data: unknown; truncated?: boolean }[];
    }>(await call("GET", "/notifications/821/inbox"));
    const [n] = page.notifications;
    expect(n?.message).toHaveLength(4096);
    expect(n?.data).toBeNull();
    expect(n?.truncated).toBe(true);
  });

  it("answers 400 for a malformed cursor, limit or filter", async () => {
    await createUsers([[831, "Ren"]]);
    for (const query of [
      "?before=abc",
      "?after=-1",
      "?before=1.5",
      "?after=99999999999999999999",
      "?limit=0",
      "?limit=201",
      "?limit=x",
      "?archived=maybe",
      "?status=new",
    ]) {
      await expectMessage(await call("GET", `/notifications/831/inbox${query}`), 400);
    }
    const socket = await openLive(831, { after: "nope" });
    expect(await expectMessage(socket, 400)).toBe(
      "malformed cursor in 'after': expected a notification id",
    );
  });

  it("answers 400 for malformed mark bodies", async () => {
    await createUsers([[841, "Sia"]]);
    for (const body of [
      { state: "read" },
      { state: "loved", ids: [1] },
      { state: "read", ids: [] },
      { state: "read", ids: ["1"] },
      { state: "read", ids: [0] },
      { state: "read", all: false },
      { state: "read", ids: Array.from({ length: 1001 }, (_, i) => i + 1) },
    ]) {
      await expectMessage(await call("POST", "/notifications/841/mark", { body }), 400);
    }
    await expectMessage(await call("POST", "/notifications/841/mark", { raw: "{oops" }), 400);
  });

  it("answers 426 for a plain GET of the live endpoint", async () => {
    await createUsers([[851, "Tia"]]);
    const response = await call("GET", "/notifications/851/live");
    expect(await expectMessage(response, 426)).toBe("expected a WebSocket upgrade");
  });

  it("ignores marks of ids the inbox does not have", async () => {
    await createUsers([
      [861, "Udo"],
      [862, "Val"],
    ]);
    await notify(862, 861, "only one");
    const answer = await json<{ changed: number[] }>(
      await call("POST", "/notifications/861/mark", { body: { state: "read", ids: [999_999] } }),
    );
    expect(answer.changed).toEqual([]);
  });

  it("answers malformed JSON bodies on /send with 400", async () => {
    await expectMessage(await call("POST", "/send", { raw: "{not json" }), 400);
    await expectMessage(await call("POST", "/send", { raw: "[1]" }), 400);
  });
});

describe("the notification users API", () => {
  it("creates (201), renames (204), reads, lists and deletes users", async () => {
    expect(
      (await call("PUT", "/api/notification-users/%2F/901", { body: { name: "Wyn" } })).status,
    ).toBe(201);
    expect(
      (await call("PUT", "/api/notification-users/%2F/901", { body: { name: "Wyn" } })).status,
    ).toBe(204);
    expect(
      (await call("PUT", "/api/notification-users/%2F/901", { body: { name: "Wynn" } })).status,
    ).toBe(204);
    expect(await json(await call("GET", "/api/notification-users/%2F/901"))).toEqual({
      id: 901,
      name: "Wynn",
      vhost: "/",
    });
    const listed = await json<{ id: number }[]>(await call("GET", "/api/notification-users"));
    expect(listed.some((user) => user.id === 901)).toBe(true);
    const bindings = await json<{ destination: string; destination_type: string }[]>(
      await call("GET", "/api/exchanges/%2F/notifications/bindings/source"),
    );
    expect(bindings).toContainEqual(
      expect.objectContaining({
        destination: "901",
        destination_type: "inbox",
        routing_key: "901",
      }),
    );
    expect((await call("DELETE", "/api/notification-users/%2F/901")).status).toBe(204);
    expect((await call("GET", "/api/notification-users/%2F/901")).status).toBe(404);
    expect(await (await publish("notifications", "901", "gone")).json()).toEqual({ routed: false });
  });

  it("rebinds a user whose binding was removed when the user is declared again", async () => {
    expect(
      (await call("PUT", "/api/notification-users/%2F/921", { body: { name: "Xan" } })).status,
    ).toBe(201);
    expect((await call("DELETE", "/api/exchanges/%2F/notifications")).status).toBe(204);
    expect((await publish("notifications", "921", "lost")).status).toBe(400); // no exchange
    expect(
      (await call("PUT", "/api/notification-users/%2F/921", { body: { name: "Xan" } })).status,
    ).toBe(204);
    expect(await (await publish("notifications", "921", "found")).json()).toEqual({ routed: true });
  });

  it("refuses to bind inboxes to a notifications exchange that would route to everyone", async () => {
    expect((await call("DELETE", "/api/exchanges/%2F/notifications")).status).toBe(204);
    await call("PUT", "/api/exchanges/%2F/notifications", { body: { type: "fanout" } });
    const refused = await call("PUT", "/api/notification-users/%2F/931", { body: { name: "Yoy" } });
    expect(refused.status).toBe(400);
    expect((await call("DELETE", "/api/exchanges/%2F/notifications")).status).toBe(204);
    const created = await call("PUT", "/api/notification-users/%2F/931", { body: { name: "Yoy" } });
    expect(created.status).toBe(201);
  });

  it("refuses bad ids and names", async () => {
    for (const [id, body] of [
      ["abc", { name: "x" }],
      ["-1", { name: "x" }],
      ["911", { name: "" }],
      ["911", { name: "a\u0000b" }],
      ["911", {}],
    ] as const) {
      const response = await call("PUT", `/api/notification-users/%2F/${id}`, { body });
      expect(response.status).toBe(400);
    }
    const duplicate = await call("POST", "/api/notification-users/%2F", {
      body: {
        users: [
          { id: 1, name: "a" },
          { id: 1, name: "b" },
        ],
      },
    });
    expect(duplicate.status).toBe(400);
  });

  it("binds an inbox by hand only when its user exists", async () => {
    const missing = await call("POST", "/api/bindings/%2F/e/amq.direct/i/929", {
      body: { routing_key: "k" },
    });
    expect(missing.status).toBe(404);
    const bad = await call("POST", "/api/bindings/%2F/e/amq.direct/i/x", { body: {} });
    expect(bad.status).toBe(400);
  });
});

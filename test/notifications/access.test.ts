import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env, exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import worker from "../../src/index";
import { mintInboxToken } from "../../src/protocol/inbox-token";
import { BASE, call, GUEST, json } from "../support/api";
import {
  bearer,
  createUsers,
  live,
  mintToken,
  notify,
  openLive,
  sendForm,
} from "../support/notifications";

describe("access to inboxes", () => {
  it("lets a user token read, mark and subscribe to its own inbox only", async () => {
    await createUsers([
      [701, "Ira"],
      [702, "Jem"],
    ]);
    await notify(702, 701, "for Ira");
    const token = await mintToken(701);
    const auth = bearer(token);
    expect((await call("GET", "/notifications/701", { auth })).status).toBe(200);
    expect((await call("GET", "/notifications/701/inbox", { auth })).status).toBe(200);
    expect((await call("GET", "/notifications/701/counts", { auth })).status).toBe(200);
    const marked = await call("POST", "/notifications/701/mark", {
      auth,
      body: { state: "read", all: true },
    });
    expect(marked.status).toBe(200);
    const socket = await live(701, { token, auth: null });
    expect((await socket.next()).type).toBe("hello");
    socket.close();

    for (const path of [
      "/notifications/702",
      "/notifications/702/inbox",
      "/notifications/702/counts",
    ]) {
      const refused = await call("GET", path, { auth });
      expect(refused.status).toBe(403);
      expect(await refused.json()).toEqual({ message: "this token is for another user's inbox" });
    }
  });

  it("refuses a socket for someone else's inbox", async () => {
    await createUsers([
      [711, "Kai"],
      [712, "Lux"],
    ]);
    const token = await mintToken(711);
    const response = await openLive(712, { token, auth: null });
    expect(response.status).toBe(403);
    expect(response.webSocket).toBeNull();
  });

  it("refuses a request without credentials with 401, and bad or expired tokens too", async () => {
    await createUsers([[721, "Mo"]]);
    const none = await call("GET", "/notifications/721", { auth: null });
    expect(none.status).toBe(401);
    expect(none.headers.get("WWW-Authenticate")).toContain("Bearer");
    const forged = await mintInboxToken("not-the-secret", {
      vhost: "/",
      userId: 721,
      expiresAt: Math.floor(Date.now() / 1000) + 60,
    });
    const expired = await mintInboxToken("test-token-secret", {
      vhost: "/",
      userId: 721,
      expiresAt: Math.floor(Date.now() / 1000) - 1,
    });
    for (const token of [forged, expired, "garbage", "a.b.c"]) {
      const response = await call("GET", "/notifications/721", { auth: bearer(token) });
      expect(response.status).toBe(401);
      expect(await response.json()).toEqual({ message: "invalid or expired token" });
    }
    const wrongPassword = await call("GET", "/notifications/721", {
      auth: `Basic ${btoa("guest:nope")}`,
    });
    expect(wrongPassword.status).toBe(401);
    const noUpgradeToken = await exports.default.fetch(
      new Request(`${BASE}/notifications/721/inbox?token=${await mintToken(721)}`),
    );
    expect(noUpgradeToken.status).toBe(401); // ?token= is for WebSocket upgrades only
  });

  it("lets only the broker administrator send: a user token cannot", async () => {
    await createUsers([
      [731, "Ned"],
      [732, "Oz"],
    ]);
    const token = await mintToken(731);
    const refused = await sendForm("fromID=731&toID=732&message=hi", bearer(token));
    expect(refused.status).toBe(403);
    expect(await refused.json()).toEqual({ message: "a user token cannot send notifications" });
    expect((await sendForm("fromID=731&toID=732&message=hi", null)).status).toBe(401);
    expect((await sendForm("fromID=731&toID=732&message=hi")).status).toBe(200);
  });

  it("refuses a cross-site form post carrying the administrator's cached credentials", async () => {
    await createUsers([
      [751, "Quo"],
      [752, "Ray"],
    ]);
    const response = await exports.default.fetch(
      new Request(`${BASE}/send`, {
        method: "POST",
        headers: {
          Authorization: GUEST,
          "Content-Type": "application/x-www-form-urlencoded",
          "Sec-Fetch-Site": "cross-site",
        },
        body: "fromID=751&toID=752&message=forged",
      }),
    );
    expect(response.status).toBe(403);
    expect(await response.json()).toEqual({ message: "cross-site request refused" });
  });

  it("mints tokens only for the administrator and only for existing users", async () => {
    await createUsers([[741, "Pat"]]);
    const anonymous = await call("POST", "/api/notification-users/%2F/741/token", { auth: null });
    expect(anonymous.status).toBe(401);
    const unknown = await call("POST", "/api/notification-users/%2F/749/token", { body: {} });
    expect(unknown.status).toBe(404);
    const tooLong = await call("POST", "/api/notification-users/%2F/741/token", {
      body: { expires_in: 31 * 24 * 3600 },
    });
    expect(tooLong.status).toBe(400);
    const minted = await json<{ token: string; user_id: number; expires_at: string }>(
      await call("POST", "/api/notification-users/%2F/741/token", { body: { expires_in: 60 } }),
    );
    expect(minted.user_id).toBe(741);
    expect(Date.parse(minted.expires_at) - Date.now()).toBeLessThanOrEqual(61_000);
  });

  it("opens the article's unauthenticated flow only in local development", async () => {
    const localEnv = { ...env, LOCAL_DEV: "true" };
    const open = async (request: Request, environment: object) => {
      const ctx = createExecutionContext();
      const response = await worker.fetch(request, environment as typeof env, ctx);
      await waitOnExecutionContext(ctx);
      return response;
    };
    const send = () =>
      new Request(`${BASE}/send`, {
        method: "POST",
        headers: { "Content-Type": "application/x-www-form-urlencoded" },
        body: "fromID=2&toID=1&message=Bruno started following you.",
      });
    expect((await open(send(), env)).status).toBe(401);
    // Local development seeds the article's four users, so the article's curl works as is.
    const sent = await open(send(), localEnv);
    expect(sent.status).toBe(200);
    const list = await open(new Request(`${BASE}/notifications/1`), localEnv);
    expect(await list.json()).toEqual({
      notifications: [
        {
          from: { id: 2, name: "Bruno" },
          to: { id: 1, name: "Emma" },
          message: "Bruno started following you.",
        },
      ],
    });
    expect((await open(new Request(`${BASE}/notifications/1`), env)).status).toBe(401);
    const users = await json<{ id: number; name: string }[]>(
      await call("GET", "/api/notification-users/%2F"),
    );
    expect(users.filter((u) => u.id <= 4).map((u) => u.name)).toEqual([
      "Emma",
      "Bruno",
      "Rick",
      "Lena",
    ]);
  });
});

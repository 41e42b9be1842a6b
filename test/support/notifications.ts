/**
 * Helpers for the notification app's tests: users, sends (as a form, like the article's curl,
 * or as JSON), tokens, and live sockets that collect their frames.
 */
import { exports } from "cloudflare:workers";
import { BASE, call, GUEST, json } from "./api";
import { INBOX_BARRIER_PING } from "./barriers";

export async function createUser(id: number, name: string): Promise<Response> {
  return call("PUT", `/api/notification-users/%2F/${id}`, { body: { name } });
}

/** Creates users in one bulk call (POST /api/notification-users/%2F). */
export async function createUsers(users: readonly [number, string][]): Promise<void> {
  const response = await call("POST", "/api/notification-users/%2F", {
    body: { users: users.map(([id, name]) => ({ id, name })) },
  });
  if (response.status !== 200) {
    throw new Error(`creating users answered ${response.status}: ${await response.text()}`);
  }
}

/** POST /send as the article's curl does: an urlencoded form. */
export async function sendForm(form: string, auth: string | null = GUEST): Promise<Response> {
  const headers: Record<string, string> = { "Content-Type": "application/x-www-form-urlencoded" };
  if (auth !== null) headers.Authorization = auth;
  return exports.default.fetch(
    new Request(`${BASE}/send`, { method: "POST", headers, body: form }),
  );
}

export async function sendJson(body: unknown, auth: string | null = GUEST): Promise<Response> {
  return call("POST", "/send", { body, auth });
}

/** Sends and fails the test unless the send answered 200. */
export async function notify(fromID: number, toID: number, message: string): Promise<void> {
  const response = await sendJson({ fromID, toID, message });
  if (response.status !== 200) {
    throw new Error(`send answered ${response.status}: ${await response.text()}`);
  }
}

export async function mintToken(userId: number, expiresIn?: number): Promise<string> {
  const response = await call("POST", `/api/notification-users/%2F/${userId}/token`, {
    body: expiresIn === undefined ? {} : { expires_in: expiresIn },
  });
  if (response.status !== 200) throw new Error(`token answered ${response.status}`);
  return (await json<{ token: string }>(response)).token;
}

export const bearer = (token: string): string => `Bearer ${token}`;

export interface Frame {
  type: string;
  [key: string]: unknown;
}

export interface LiveSocket {
  readonly socket: WebSocket;
  readonly frames: Frame[];
  /** The next frame not yet taken (waits up to `timeoutMs`). */
  next(timeoutMs?: number): Promise<Frame>;
  /** Takes frames until one of `type` arrives; answers that one. */
  nextOf(type: string, timeoutMs?: number): Promise<Frame>;
  /**
   * A round-trip barrier (test/support/barriers.ts): a ping the inbox object answers itself, so
   * once its pong is back every frame the inbox sent before is in `frames`. The pong is not.
   */
  barrier(timeoutMs?: number): Promise<void>;
  close(): void;
}

export async function openLive(
  userId: number | string,
  options: { after?: string; token?: string; auth?: string | null } = {},
): Promise<Response & { live?: LiveSocket }> {
  const url = new URL(`${BASE}/notifications/${userId}/live`);
  if (options.after !== undefined) url.searchParams.set("after", options.after);
  if (options.token !== undefined) url.searchParams.set("token", options.token);
  const headers: Record<string, string> = { Upgrade: "websocket" };
  const auth = options.auth === undefined ? GUEST : options.auth;
  if (auth !== null) headers.Authorization = auth;
  const response: Response & { live?: LiveSocket } = await exports.default.fetch(
    new Request(url, { headers }),
  );
  const socket = response.webSocket;
  if (!socket) return response;
  socket.accept();
  const frames: Frame[] = [];
  const waiters: (() => void)[] = [];
  let taken = 0;
  const barriers: (() => void)[] = [];
  socket.addEventListener("message", (event) => {
    const frame = JSON.parse(String(event.data)) as Frame;
    const barrier = frame.type === "pong" ? barriers.shift() : undefined;
    if (barrier) {
      barrier();
      return;
    }
    frames.push(frame);
    for (const wake of waiters.splice(0)) wake();
  });
  const barrier = (timeoutMs = 5000): Promise<void> =>
    new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error("no pong to the barrier ping")), timeoutMs);
      barriers.push(() => {
        clearTimeout(timer);
        resolve();
      });
      socket.send(INBOX_BARRIER_PING);
    });
  const next = async (timeoutMs = 5000): Promise<Frame> => {
    const deadline = Date.now() + timeoutMs;
    while (taken >= frames.length) {
      if (Date.now() > deadline) throw new Error("no frame arrived in time");
      await new Promise<void>((resolve) => {
        waiters.push(resolve);
        setTimeout(resolve, 50);
      });
    }
    return frames[taken++] as Frame;
  };
  const nextOf = async (type: string, timeoutMs = 5000): Promise<Frame> => {
    for (;;) {
      const frame = await next(timeoutMs);
      if (frame.type === type) return frame;
    }
  };
  response.live = {
    socket,
    frames,
    next,
    nextOf,
    barrier,
    close: () => socket.close(1000, "done"),
  };
  return response;
}

export async function live(
  userId: number | string,
  options: { after?: string; token?: string; auth?: string | null } = {},
): Promise<LiveSocket> {
  const response = await openLive(userId, options);
  if (!response.live) {
    throw new Error(`live answered ${response.status}: ${await response.text()}`);
  }
  return response.live;
}

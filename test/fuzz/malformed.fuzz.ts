/**
 * Seeded fuzzing (`npm run test:fuzz`): malformed requests on every route and malformed frames of
 * every type on consumer and producer sockets. Each request must answer below 500 within its
 * time bound; each bad frame must get exactly one error (an `error` frame, or a `nack` for a
 * publish), and the broker must still serve afterwards. The seed is printed and can be set with
 * FUZZ_SEED; a failure names the request or frame that caused it.
 */
import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { BASE, call, declareQueue, GUEST } from "../support/api";
import { consumerBarrier, producerBarrier } from "../support/barriers";
import { type Frame, openSocket } from "../support/socket";

declare const __FUZZ_SEED__: string;
const SEED = Number(__FUZZ_SEED__);
const REQUESTS = 6000;
const FRAMES_PER_SOCKET = 1100;
const REQUEST_TIMEOUT_MS = 10_000;

/** mulberry32 */
function generator(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number) => Math.floor(next() * n);
  const pick = <T>(items: readonly T[]): T => items[int(items.length)] as T;
  return { next, int, pick };
}

type Rng = ReturnType<typeof generator>;

const ROUTES = [
  "/api/overview",
  "/api/whoami",
  "/api/exchanges",
  "/api/exchanges/:vhost",
  "/api/exchanges/:vhost/:name",
  "/api/exchanges/:vhost/:name/bindings/source",
  "/api/exchanges/:vhost/:name/bindings/destination",
  "/api/exchanges/:vhost/:name/publish",
  "/api/exchanges/:vhost/:name/publish-batch",
  "/api/queues",
  "/api/queues/:vhost",
  "/api/queues/:vhost/:name",
  "/api/queues/:vhost/:name/bindings",
  "/api/queues/:vhost/:name/contents",
  "/api/queues/:vhost/:name/get",
  "/api/queues/:vhost/:name/pull",
  "/api/queues/:vhost/:name/ack",
  "/api/queues/:vhost/:name/consume",
  "/api/publish/:vhost",
  "/api/bindings",
  "/api/bindings/:vhost",
  "/api/bindings/:vhost/e/:name/q/:name",
  "/api/bindings/:vhost/e/:name/e/:name",
  "/api/bindings/:vhost/e/:name/i/:id",
  "/api/bindings/:vhost/e/:name/q/:name/:name",
  "/api/vhosts",
  "/api/vhosts/:vhost",
  "/api/vhosts/:vhost/permissions",
  "/api/vhosts/:vhost/topic-permissions",
  "/api/vhost-limits",
  "/api/vhost-limits/:vhost",
  "/api/vhost-limits/:vhost/:name",
  "/api/users",
  "/api/users/:user",
  "/api/users/:user/permissions",
  "/api/users/:user/topic-permissions",
  "/api/permissions",
  "/api/permissions/:vhost/:user",
  "/api/topic-permissions",
  "/api/topic-permissions/:vhost/:user",
  "/api/aliveness-test/:vhost",
  "/api/tickets",
  "/api/definitions",
  "/api/definitions/:vhost",
  "/api/notification-users",
  "/api/notification-users/:vhost",
  "/api/notification-users/:vhost/:id",
  "/api/notification-users/:vhost/:id/token",
  "/send",
  "/notifications/:id",
  "/notifications/:id/inbox",
  "/notifications/:id/counts",
  "/notifications/:id/mark",
  "/notifications/:id/page",
  "/notifications/:id/live",
  "/api/streams/:vhost/:name",
  "/api/streams/:vhost/:name/fetch",
  "/api/streams/:vhost/:name/consume",
  "/api/topics/:vhost",
  "/api/topics/:vhost/:name",
  "/api/topics/:vhost/:name/produce",
  "/api/topics/:vhost/:name/producer",
  "/api/topics/:vhost/:name/partitions/:id/fetch",
  "/api/groups/:vhost/:name",
  "/api/groups/:vhost/:name/heartbeat",
  "/api/groups/:vhost/:name/commit",
  "/api/groups/:vhost/:name/offsets",
  "/api/groups/:vhost/:name/offsets/reset",
  "/api/groups/:vhost/:name/consume",
  "/health",
  "/api/connections",
  "/api/connections/:name",
  "/api/connections/:name/channels",
  "/api/vhosts/:vhost/connections",
  "/api/vhosts/:vhost/channels",
  "/api/channels",
  "/api/channels/:name",
  "/api/consumers",
  "/api/consumers/:vhost",
  "/api/nodes",
  "/api/nodes/:name",
  "/api/parameters",
  "/api/parameters/:name",
  "/api/parameters/:name/:vhost",
  "/api/parameters/:name/:vhost/:name",
  "/api/extensions",
  "/api/openapi.json",
  "/api/docs",
  "/api/docs/:name",
  "/metrics",
  "/api/no-such-route",
];

const METHODS = ["GET", "PUT", "POST", "DELETE", "PATCH", "HEAD", "OPTIONS"];

// Never the default vhost or the administrator: the fuzz must not lock itself out.
const SEGMENTS = [
  "fz",
  "fz.q",
  "fz-vh",
  "amq.direct",
  "amq.default",
  "amq.gen-x",
  "",
  "%00",
  "%ZZ",
  "%",
  "%ED%A0%80",
  "%F0%9F%98%80",
  "..",
  "%2E%2E",
  "a%2Fb",
  "x".repeat(300),
  "é".repeat(140),
  "%0A%0D",
  "<script>",
  "'; DROP TABLE users; --",
  "1",
  "-1",
  "99999999999999999999",
  "NaN",
  "max-queues",
  "max-connections",
];

const LONG = "y".repeat(70_000);

function randomValue(rng: Rng, depth = 0): unknown {
  switch (rng.int(depth > 2 ? 7 : 10)) {
    case 0:
      return null;
    case 1:
      return rng.pick([true, false]);
    case 2:
      return rng.pick([0, -1, 1.5, 1e308, -1e308, 2 ** 53 + 1, 65536, 1_000_000]);
    case 3:
      return rng.pick(["", "x", "\ud800", "\udc00x", "k\u0000", LONG.slice(0, rng.int(400)), "é"]);
    case 4:
      return rng.pick(["string", "base64", "auto", "ack_requeue_true", "topic", "direct"]);
    case 5:
      return rng.pick(["!!!", "====", "aGVsbG8=", "not base64 at all"]);
    case 6:
      return rng.pick([".*", "(", "(a+)+$", "^(?!x)", "(a)\\1", "[", "\\"]);
    case 7:
      return Array.from({ length: rng.int(4) }, () => randomValue(rng, depth + 1));
    default: {
      const keys = [
        "type",
        "durable",
        "auto_delete",
        "arguments",
        "routing_key",
        "payload",
        "payload_encoding",
        "properties",
        "count",
        "ackmode",
        "encoding",
        "password",
        "password_hash",
        "tags",
        "configure",
        "write",
        "read",
        "value",
        "messages",
        "acks",
        "nacks",
        "wait_ms",
        "visibility_timeout_ms",
        "vhost",
        "users",
        "queues",
        "exchanges",
        "bindings",
        "permissions",
        "headers",
        "x-match",
        "fromID",
        "toID",
        "message",
        "ids",
        "state",
        "expires_in",
        "name",
      ];
      const out: Record<string, unknown> = {};
      for (let i = rng.int(5); i > 0; i--) out[rng.pick(keys)] = randomValue(rng, depth + 1);
      return out;
    }
  }
}

function randomBody(rng: Rng): BodyInit | undefined {
  switch (rng.int(12)) {
    case 0:
      return undefined;
    case 1:
      return "{";
    case 2:
      return "[".repeat(20_000);
    case 3:
      return `{"a":${"[".repeat(3000)}${"]".repeat(3000)}}`;
    case 4:
      return new Uint8Array([0x7b, 0xff, 0xfe, 0x7d]);
    case 5:
      return "null";
    case 6:
      return `"${LONG}"`;
    case 7:
      return "fromID=abc&toID=&message=%ZZ";
    case 8:
      return '{"routing_key":"k\\ud800","payload":"x","payload_encoding":"string","properties":{}}';
    default:
      return JSON.stringify(randomValue(rng));
  }
}

/** Names that exist, so that most requests get past routing into validation. */
const VALID_SEGMENTS = ["fz.q", "fz-vh", "amq.direct", "amq.topic", "fz-user", "1"];

/** A method the route serves, most of the time: the point is to reach body validation. */
function plausibleMethod(rng: Rng, route: string): string {
  if (rng.int(4) === 0) return rng.pick(METHODS);
  if (/(publish|publish-batch|get|pull|ack|tickets|token|mark|send|definitions)$/.test(route)) {
    return "POST";
  }
  if (/\/e\/:name\/(q|e|i)\/:(name|id)$/.test(route)) return "POST";
  return rng.pick(["GET", "GET", "GET", "PUT", "PUT", "DELETE"]);
}

function randomPath(rng: Rng, route: string, method: string): string {
  let path = route.replace(/:[a-z]+/g, (param) => {
    if (rng.int(3) === 0) return rng.pick(SEGMENTS);
    // The default vhost may be used, but never deleted: the fuzz must not lock itself out.
    if (param === ":vhost" && method !== "DELETE" && rng.int(2) === 0) return "%2F";
    return rng.pick(VALID_SEGMENTS);
  });
  if (rng.int(3) === 0) {
    const query = rng.pick([
      "page=0",
      "page=-1&page_size=abc",
      "page=1&page_size=100000",
      "use_regex=true&name=(a%2B)%2B%24",
      "use_regex=true&name=(",
      "use_regex=true&name=%5Cud800",
      "sort=..&sort_reverse=true&columns=a.b.c",
      "if-empty=true&if-unused=maybe",
      "cursor=%ZZ&limit=-5",
      "ticket=nope",
      "limit=100000&state=bogus",
    ]);
    path += `?${query}`;
  }
  return path;
}

function randomHeaders(rng: Rng): Record<string, string> {
  const headers: Record<string, string> = {};
  const auth = rng.int(20);
  if (auth < 16) headers.Authorization = GUEST;
  else if (auth === 6) headers.Authorization = "Basic !!!";
  else if (auth === 7) headers.Authorization = `Basic ${btoa("fz-nobody:wrong")}`;
  else if (auth === 8) headers.Authorization = `Bearer ${"z".repeat(rng.int(5000))}`;
  headers["Content-Type"] = rng.pick([
    "application/json",
    "text/plain",
    "application/x-www-form-urlencoded",
    "multipart/form-data; boundary=",
    "application/json; charset=latin1",
  ]);
  if (rng.int(8) === 0) headers.Upgrade = "websocket";
  return headers;
}

async function withTimeout<T>(promise: Promise<T>, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`hang: ${what}`)), REQUEST_TIMEOUT_MS);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

describe(`fuzzing with seed ${SEED}`, () => {
  it(`answers ${REQUESTS} malformed requests on every route below 500, without hanging`, async () => {
    await declareQueue("fz.q");
    await call("PUT", "/api/vhosts/fz-vh", { body: {} });
    await call("PUT", "/api/users/fz-user", { body: { password: "pw", tags: "" } });
    const rng = generator(SEED);
    const failures: string[] = [];
    const statuses = new Map<number, number>();
    const one = async (index: number) => {
      const route = rng.pick(ROUTES);
      const method = plausibleMethod(rng, route);
      const path = randomPath(rng, route, method);
      const headers = randomHeaders(rng);
      const body = method === "GET" || method === "HEAD" ? undefined : randomBody(rng);
      const what = `#${index} ${method} ${path} ${String(body).slice(0, 120)}`;
      try {
        const response = await withTimeout(
          exports.default.fetch(new Request(`${BASE}${path}`, { method, headers, body })),
          what,
        );
        await response.body?.cancel();
        statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
        if (response.status >= 500) failures.push(`${response.status} ${what}`);
      } catch (error) {
        failures.push(`${String(error)} ${what}`);
      }
    };
    const concurrency = 16;
    for (let start = 0; start < REQUESTS; start += concurrency) {
      await Promise.all(
        Array.from({ length: Math.min(concurrency, REQUESTS - start) }, (_, i) => one(start + i)),
      );
    }
    const histogram = [...statuses].sort(([a], [b]) => a - b).map(([s, n]) => `${s}: ${n}`);
    console.log(`fuzz seed ${SEED}: ${REQUESTS} requests answered ${histogram.join(", ")}`);
    expect(failures, `seed ${SEED}`).toEqual([]);
    expect([...statuses.keys()].some((s) => s >= 400)).toBe(true);
    expect((await call("GET", "/health")).status).toBe(200);
    expect((await call("GET", "/api/overview")).status).toBe(200);
  });

  it(`answers each of ${FRAMES_PER_SOCKET} malformed consumer frames with exactly one error`, async () => {
    await declareQueue("fz.frames.c");
    const rng = generator(SEED + 1);
    const socket = await openSocket("/api/queues/%2F/fz.frames.c/consume");
    const bad = (): string | Uint8Array => {
      switch (rng.int(14)) {
        case 0:
          return new Uint8Array([rng.int(256), rng.int(256)]);
        case 1:
          return "not json";
        case 2:
          return "";
        case 3:
          return JSON.stringify({ type: "consume", tag: "x".repeat(70_000) });
        case 4:
          return JSON.stringify({ type: rng.pick(["nope", "", 7, null, "deliver", "publish"]) });
        case 5:
          return JSON.stringify({ type: "consume", tag: rng.pick(["", 5, null, "k\ud800"]) });
        case 6:
          return JSON.stringify({
            type: "consume",
            tag: "t",
            prefetch: rng.pick([-1, 1.5, "x", 70000]),
          });
        case 7:
          return JSON.stringify({ type: "consume", tag: "t", ack: "sometimes" });
        case 8:
          return JSON.stringify({ type: "consume", tag: "t", queue: "fz.other" });
        case 9:
          return JSON.stringify({
            type: rng.pick(["ack", "nack", "reject"]),
            delivery_tag: rng.pick([0, -1, "1", 1.5, null]),
          });
        case 10:
          return JSON.stringify({
            type: rng.pick(["ack", "nack", "reject"]),
            delivery_tag: 1 + rng.int(1e6),
          });
        case 11:
          return JSON.stringify({
            type: "extend",
            delivery_tag: 1,
            ack_timeout_ms: rng.pick([0, -5, 1e12]),
          });
        case 12:
          return JSON.stringify({ type: "cancel", tag: `never-${rng.int(1e6)}` });
        default:
          return `{"type":"ack","delivery_tag":1,${'"x":1,'.repeat(rng.int(50))}`;
      }
    };
    const failures = await sendAll(
      socket,
      FRAMES_PER_SOCKET,
      bad,
      (f) => f.type === "error",
      () => consumerBarrier(socket),
    );
    expect(failures, `seed ${SEED}`).toEqual([]);
    socket.send({ type: "consume", tag: "fine" });
    expect(await socket.next()).toMatchObject({ type: "consume_ok", tag: "fine" });
    socket.close();
  });

  it(`answers each of ${FRAMES_PER_SOCKET} malformed producer frames with exactly one error or nack`, async () => {
    await declareQueue("fz.frames.p");
    const rng = generator(SEED + 2);
    const socket = await openSocket("/api/publish/%2F");
    let seq = 0;
    const bad = (): string | Uint8Array => {
      switch (rng.int(12)) {
        case 0:
          return new Uint8Array([rng.int(256)]);
        case 1:
          return "{";
        case 2:
          return JSON.stringify({
            type: "publish",
            seq: rng.pick([0, -1, "1", 1.5, null]),
            exchange: "",
          });
        case 3:
          return JSON.stringify({ type: "publish", seq: 1, exchange: "" }); // not above the last
        case 4:
          return JSON.stringify({ type: rng.pick(["consume", "ack", "nope"]), seq: ++seq });
        case 5:
          return JSON.stringify({
            type: "publish",
            seq: ++seq,
            exchange: rng.pick([5, null, "x".repeat(300)]),
          });
        case 6:
          return JSON.stringify({
            type: "publish",
            seq: ++seq,
            exchange: "",
            routing_key: "fz.frames.p",
            payload: "!!!",
            payload_encoding: "base64",
          });
        case 7:
          return JSON.stringify({
            type: "publish",
            seq: ++seq,
            exchange: "fz-missing-exchange",
            routing_key: "k",
          });
        case 8:
          return `{"type":"publish","seq":${++seq},"exchange":"","routing_key":"k\\ud800"}`;
        case 9:
          return JSON.stringify({
            type: "publish",
            seq: ++seq,
            exchange: "",
            routing_key: "r".repeat(300),
          });
        case 10:
          return JSON.stringify({
            type: "publish",
            seq: ++seq,
            exchange: "",
            properties: { priority: "high" },
          });
        default:
          return JSON.stringify({
            type: "publish",
            seq: ++seq,
            exchange: "",
            payload_encoding: "utf-9",
          });
      }
    };
    const failures = await sendAll(
      socket,
      FRAMES_PER_SOCKET,
      bad,
      (f) => f.type === "error" || f.type === "nack",
      () => {
        seq += 2; // above any seq a bad frame carried
        return producerBarrier(socket, seq);
      },
    );
    expect(failures, `seed ${SEED}`).toEqual([]);
    socket.send({
      type: "publish",
      seq: ++seq + 1,
      exchange: "",
      routing_key: "fz.frames.p",
      payload: "ok",
    });
    expect(await socket.next()).toMatchObject({ type: "confirm", routed: true });
    socket.close();
  });
});

/**
 * Sends each bad frame and waits for its one answer; checks that no second answer follows, with
 * `barrier`, a round trip answered after everything sent before it (test/support/barriers.ts).
 */
async function sendAll(
  socket: Awaited<ReturnType<typeof openSocket>>,
  count: number,
  bad: () => string | Uint8Array,
  isError: (f: Frame) => boolean,
  barrier: () => Promise<void>,
): Promise<string[]> {
  const failures: string[] = [];
  for (let i = 0; i < count; i++) {
    const frame = bad();
    const what = `frame #${i} ${typeof frame === "string" ? frame.slice(0, 100) : "binary"}`;
    socket.ws.send(frame);
    try {
      const answer = await socket.next(() => true, REQUEST_TIMEOUT_MS);
      if (!isError(answer)) failures.push(`${what}: answered ${JSON.stringify(answer)}`);
    } catch (error) {
      failures.push(`${what}: ${String(error)}`);
    }
    if (socket.closed) {
      failures.push(`${what}: the socket closed`);
      break;
    }
  }
  // Exactly one answer each: nothing more arrives after the last.
  if (!socket.closed) await barrier();
  if (socket.frames.length !== count) {
    failures.push(`${socket.frames.length} answers to ${count} frames`);
  }
  return failures;
}

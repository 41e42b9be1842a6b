/**
 * The permission table (src/access/operations.ts) covers every route the app registers and every
 * frame type a socket accepts, and nothing else; and the management-tag gate follows its
 * `client` marks: a user without tags reaches exactly the client operations.
 */
import { beforeAll, describe, expect, it } from "vitest";
import {
  FRAME_OPERATIONS,
  OPERATIONS,
  ROUTE_OPERATIONS,
  routeOperation,
  type SocketKind,
} from "../../src/access/operations";
import { createApp } from "../../src/api/app";
import { FRAME, parseConsumerFrame, parsePublishFrame } from "../../src/protocol/frames";
import { CLIENT_FRAME, parseClientFrame, SERVER_FRAME } from "../../src/protocol/inbox-frames";
import {
  parseProduceFrame,
  parseStreamReaderFrame,
  STREAM_FRAME,
} from "../../src/protocol/stream-frames";
import { call, createUser } from "../support/access";

const routes = createApp().routes.filter((route) => route.method !== "ALL");
const routeKeys = [...new Set(routes.map((route) => `${route.method} ${route.path}`))];

describe("the permission table", () => {
  it("has an operation for every route the app registers", () => {
    expect(routeKeys.length).toBeGreaterThan(100);
    expect(routeKeys.filter((key) => ROUTE_OPERATIONS[key] === undefined)).toEqual([]);
  });

  it("names no route the app does not register", () => {
    const registered = new Set(routeKeys);
    expect(Object.keys(ROUTE_OPERATIONS).filter((key) => !registered.has(key))).toEqual([]);
  });

  it("names only operations it defines", () => {
    const named = [
      ...Object.values(ROUTE_OPERATIONS),
      ...Object.values(FRAME_OPERATIONS).flatMap((frames) => Object.values(frames)),
    ];
    expect(named.filter((name) => !(name in OPERATIONS))).toEqual([]);
  });

  it("answers HEAD with the GET route's operation", () => {
    expect(routeOperation("HEAD", "/api/whoami")).toBe(OPERATIONS["user.whoami"]);
  });
});

/** Every frame type the protocol knows of, in any direction: the candidates to probe. */
const candidates = [
  ...new Set([
    ...Object.values(FRAME),
    ...Object.values(STREAM_FRAME),
    ...Object.values(CLIENT_FRAME),
    ...Object.values(SERVER_FRAME),
    ...Object.values(FRAME_OPERATIONS).flatMap((frames) => Object.keys(frames)),
  ]),
];

/** Whether a socket's own parser takes a frame type (a known type with bad fields counts). */
const accepts: Record<SocketKind, (type: string) => boolean> = {
  consumer: (type) => known(parseConsumerFrame(JSON.stringify({ type }))),
  producer: (type) =>
    known(parsePublishFrame(JSON.stringify({ type, seq: 1, exchange: "" }), 65536)),
  stream: (type) => known(parseStreamReaderFrame(JSON.stringify({ type }))),
  group: (type) => known(parseStreamReaderFrame(JSON.stringify({ type }))),
  // Otherwise well-formed, so that the type is what a refusal is about.
  "topic-producer": (type) =>
    known(parseProduceFrame(JSON.stringify({ type, seq: 1, messages: [{ payload: "p" }] }))),
  inbox: (type) => parseClientFrame(JSON.stringify({ type, ids: [1] })) !== null,
};

function known(parsed: { ok: true } | { ok: false; code: string }): boolean {
  return parsed.ok || parsed.code !== "unknown_frame";
}

describe("the frame table", () => {
  for (const socket of Object.keys(FRAME_OPERATIONS) as SocketKind[]) {
    it(`has an operation for every frame type a ${socket} socket accepts, and only those`, () => {
      const accepted = candidates.filter((type) => accepts[socket](type)).sort();
      expect(accepted.length).toBeGreaterThan(0);
      expect(Object.keys(FRAME_OPERATIONS[socket]).sort()).toEqual(accepted);
    });
  }

  it("gives every consumer frame one operation, which the queue object checks per connection", () => {
    expect(new Set(Object.values(FRAME_OPERATIONS.consumer))).toEqual(new Set(["frame.consume"]));
  });
});

/** A path for a route, its parameters filled in; the vhost is one the caller cannot see. */
function pathOf(route: string): string {
  const values: Record<string, string> = {
    vhost: "%2F",
    partition: "0",
    limit: "max-connections",
    component: "vhost-limits",
    props: "~",
    id: "1",
    userID: "1",
  };
  return route.replace(/:([A-Za-z]+)/g, (_, param: string) => values[param] ?? "ops-gate-x");
}

/**
 * The /api routes a user without a management tag may call: what RabbitMQ's CLI tools and the
 * AMQP bridge (bridge/) rely on. Changing this list changes who may do what.
 */
const CLIENT_ROUTES = [
  "GET /api/whoami",
  "GET /api/aliveness-test/:vhost",
  "POST /api/tickets",
  "GET /api/exchanges/:vhost/:name",
  "PUT /api/exchanges/:vhost/:name",
  "DELETE /api/exchanges/:vhost/:name",
  "POST /api/exchanges/:vhost/:name/publish",
  "POST /api/exchanges/:vhost/:name/publish-batch",
  "GET /api/queues/:vhost/:name",
  "PUT /api/queues/:vhost/:name",
  "DELETE /api/queues/:vhost/:name",
  "DELETE /api/queues/:vhost/:name/contents",
  "POST /api/queues/:vhost/:name/get",
  "POST /api/queues/:vhost/:name/pull",
  "POST /api/queues/:vhost/:name/ack",
  "GET /api/bindings/:vhost/e/:source/q/:destination",
  "POST /api/bindings/:vhost/e/:source/q/:destination",
  "DELETE /api/bindings/:vhost/e/:source/q/:destination/:props",
  "GET /api/bindings/:vhost/e/:source/e/:destination",
  "POST /api/bindings/:vhost/e/:source/e/:destination",
  "DELETE /api/bindings/:vhost/e/:source/e/:destination/:props",
  "PUT /api/topics/:vhost/:name",
  "DELETE /api/topics/:vhost/:name",
  "POST /api/topics/:vhost/:name/produce",
  "POST /api/topics/:vhost/:name/partitions/:partition/fetch",
  "POST /api/streams/:vhost/:name/fetch",
  "POST /api/groups/:vhost/:name/heartbeat",
  "POST /api/groups/:vhost/:name/commit",
];

describe("the management-tag gate", () => {
  let tagless = "";
  beforeAll(async () => {
    // No tags and no permissions anywhere: client calls stop at the vhost (403), never run.
    tagless = await createUser("ops-gate-tagless", "pw");
  });

  async function reason(method: string, path: string): Promise<string | null> {
    const body = method === "GET" ? undefined : {};
    const response = await call(method, path, { auth: tagless, body });
    const text = await response.text();
    if (response.status !== 401) return null;
    return (JSON.parse(text) as { reason: string }).reason;
  }

  it("marks exactly the client routes as client operations", () => {
    const marked = Object.entries(ROUTE_OPERATIONS)
      .filter(([, name]) => OPERATIONS[name].login === "basic" && OPERATIONS[name].client)
      .map(([key]) => key);
    expect(marked.sort()).toEqual([...CLIENT_ROUTES].sort());
  });

  it("lets a user without tags reach exactly the client operations behind it", async () => {
    const wrong: string[] = [];
    for (const key of routeKeys) {
      const operation = ROUTE_OPERATIONS[key];
      if (operation === undefined || OPERATIONS[operation].login !== "basic") continue;
      const [method, route] = key.split(" ") as [string, string];
      const gated = (await reason(method, pathOf(route))) === "Not management user";
      if (gated === OPERATIONS[operation].client) wrong.push(`${key} (${operation})`);
    }
    expect(wrong).toEqual([]);
  });

  it("keeps unknown paths, unsupported methods and malformed partitions management calls", async () => {
    expect(await reason("GET", "/api/no-such-thing")).toBe("Not management user");
    expect(await reason("POST", "/api/queues/%2F/ops-gate-q")).toBe("Not management user");
    expect(await reason("POST", "/api/topics/%2F/ops-gate-t/partitions/x/fetch")).toBe(
      "Not management user",
    );
    expect(await reason("POST", "/api/topics/%2F/ops-gate-t/partitions/0/fetch")).toBeNull();
  });
});

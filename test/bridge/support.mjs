// The AMQP bridge in front of a broker, for Node-side tests (node --test): a broker from
// bench/lib/broker.mjs on a free port, the bridge on another free port, optionally a
// TCP proxy between them that a test can cut to drop the bridge's broker sockets. Every wait
// is bounded; stop() ends exactly what was started.

import net from "node:net";
import { startBroker } from "../../bench/lib/broker.mjs";
import { startBridge } from "../../bridge/server.ts";

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `check` until it returns a truthy value (or throws after `ms`). */
export async function eventually(check, ms = 10_000, what = "condition") {
  const started = Date.now();
  let last;
  while (Date.now() - started < ms) {
    try {
      last = await check();
      if (last) return last;
    } catch (error) {
      last = error;
    }
    await sleep(50);
  }
  throw new Error(`timed out waiting for ${what} (last: ${last?.message ?? JSON.stringify(last)})`);
}

/** A TCP proxy whose connections can be cut at once (the broker "dropping" the bridge). */
async function startProxy(targetPort) {
  const sockets = new Set();
  const server = net.createServer((client) => {
    const upstream = net.connect(targetPort, "127.0.0.1");
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on("close", () => sockets.delete(s));
      s.on("error", () => {});
    }
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    port: server.address().port,
    /** Drops every connection through the proxy; new ones are accepted again. */
    cut() {
      for (const s of sockets) s.destroy();
    },
    close: () =>
      new Promise((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(resolve);
      }),
  };
}

export async function startStack({ proxy = false, prefix = "bridge-test-" } = {}) {
  const broker = await startBroker({ prefix });
  let relay = null;
  let bridge = null;
  try {
    relay = proxy ? await startProxy(broker.port) : null;
    const target = relay ? `http://127.0.0.1:${relay.port}` : broker.url;
    const lines = [];
    bridge = await startBridge({ broker: target, port: 0, log: (line) => lines.push(line) });
    const amqpUrl = (user = "guest", password = "guest", vhost = "/") =>
      `amqp://${encodeURIComponent(user)}:${encodeURIComponent(password)}@127.0.0.1:${bridge.port}/${encodeURIComponent(vhost)}`;
    /** A management call as guest (the administrator of the test broker). */
    const admin = async (method, path, body) => {
      const response = await fetch(`${broker.url}${path}`, {
        method,
        headers: {
          Authorization: `Basic ${Buffer.from("guest:guest").toString("base64")}`,
          ...(body === undefined ? {} : { "Content-Type": "application/json" }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(15_000),
      });
      const text = await response.text();
      return { status: response.status, body: text === "" ? null : JSON.parse(text) };
    };
    return {
      broker,
      bridge,
      proxy: relay,
      log: lines,
      amqpUrl,
      admin,
      async stop() {
        await bridge?.close();
        await relay?.close();
        await broker.stop();
      },
    };
  } catch (error) {
    await bridge?.close();
    await relay?.close();
    await broker.stop();
    throw error;
  }
}

/** A user with full permissions in `vhost` (created if needed). */
export async function createUser(stack, user, password, vhost = "/", perms = {}) {
  if (vhost !== "/") await stack.admin("PUT", `/api/vhosts/${encodeURIComponent(vhost)}`, {});
  await stack.admin("PUT", `/api/users/${encodeURIComponent(user)}`, { password, tags: "" });
  await stack.admin(
    "PUT",
    `/api/permissions/${encodeURIComponent(vhost)}/${encodeURIComponent(user)}`,
    {
      configure: ".*",
      write: ".*",
      read: ".*",
      ...perms,
    },
  );
}

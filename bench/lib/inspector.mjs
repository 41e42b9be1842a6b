// A DevTools-protocol session on the broker's isolate (the Worker and every object run in it),
// through workerd's inspector: the broker started with BROKER_INSPECTOR_PORT (scripts/start.mjs).

import { HOST } from "./common.mjs";

/**
 * Opens the session. `call(method, params)` answers the protocol's reply, or `{ timedOut: true }`
 * after `timeoutMs`: workerd does not answer every method (HeapProfiler.collectGarbage runs and
 * never answers).
 */
export async function inspectWorker(port, { timeoutMs = 60_000 } = {}) {
  const targets = await (await fetch(`http://${HOST}:${port}/json/list`)).json();
  const target = targets.find((t) => t.title.includes("core:user:"));
  if (!target) throw new Error("no inspector target for the Worker");
  const socket = new WebSocket(target.webSocketDebuggerUrl);
  await new Promise((resolve, reject) => {
    socket.addEventListener("open", resolve);
    socket.addEventListener("error", () => reject(new Error("inspector socket failed")));
  });
  let next = 0;
  const pending = new Map();
  socket.addEventListener("message", (event) => {
    const message = JSON.parse(event.data);
    pending.get(message.id)?.(message);
    pending.delete(message.id);
  });
  const call = (method, params = {}, ms = timeoutMs) =>
    new Promise((resolve) => {
      const id = ++next;
      pending.set(id, resolve);
      socket.send(JSON.stringify({ id, method, params }));
      setTimeout(() => {
        if (pending.delete(id)) resolve({ timedOut: true });
      }, ms);
    });
  return { call, close: () => socket.close() };
}

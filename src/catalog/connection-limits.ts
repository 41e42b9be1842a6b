/**
 * A vhost's open WebSocket connections, counted against its max-connections limit and listed by
 * /api/connections. Consumer connections are held by queue objects, producer connections by
 * Workers that refresh them with a heartbeat (connection-store.ts).
 */
import { LIMITS } from "../config";
import { fail, type Result } from "../errors";
import { queueStub } from "../gateway/stubs";
import type { ConnectionInfo } from "../storage/connection-store";
import { type CatalogContext, notFound } from "./catalog-context";
import { limit } from "./vhost-limits";

/**
 * Counts a new connection against max-connections. Before refusing, it asks the queues holding
 * consumer connections which of them still exist and forgets producer connections that stopped
 * refreshing, so a lost close event cannot leak a place for good.
 */
export async function openConnection(
  { env, store, connections }: CatalogContext,
  vhost: string,
  id: string,
  holder: string,
  info?: ConnectionInfo,
): Promise<Result<object>> {
  const now = Date.now();
  const max = limit(store, "max-connections");
  if (max !== null && connections.count() >= max) {
    connections.dropSilentProducers(now - LIMITS.producerSilenceMs);
    for (const [queue, ids] of connections.heldBy()) {
      const live = new Set(await queueStub(env, vhost, queue).liveConnections(ids));
      connections.remove(ids.filter((known) => !live.has(known)));
    }
    if (connections.count() >= max) {
      return fail(
        "access_refused",
        `access to vhost '${vhost}' refused: connection limit (${max}) is reached`,
      );
    }
  }
  connections.add(id, holder, now, info);
  return { ok: true };
}

/**
 * Closes a connection as RabbitMQ's DELETE /api/connections/{name} does. A consumer
 * connection is closed by the queue object holding it (its unacked deliveries return to the
 * queue); a producer connection lives in a Worker, which closes it at its next heartbeat.
 */
export async function forceCloseConnection(
  { env, store, connections }: CatalogContext,
  id: string,
  reason: string,
): Promise<Result<object>> {
  const record = connections.get(id);
  if (!record) return notFound();
  const vhost = store.getMeta("vhost");
  if (record.holder === "" || vhost === undefined) {
    connections.markClosing(id);
    return { ok: true };
  }
  await queueStub(env, vhost, record.holder).forceClose(id, reason);
  connections.remove([id]);
  return { ok: true };
}

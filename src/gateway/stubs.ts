/**
 * How a (vhost, name) pair finds its Durable Object. The name is the JSON of the pair, so no
 * choice of characters in a vhost or object name can make two objects share an instance.
 *
 * Stubs are typed by the classes' own method signatures. Workers' generated RPC types drop any
 * type containing `unknown` (message headers and arguments are JSON tables of unknown shape),
 * although such values are structured-cloned across RPC just fine.
 */
import type { Env } from "../env";
import type { ExchangeObject } from "../objects/exchange-object";
import type { GroupObject } from "../objects/group-object";
import type { InboxObject } from "../objects/inbox-object";
import type { QueueObject } from "../objects/queue-object";
import type { RegistryObject } from "../objects/registry-object";
import type { StreamObject } from "../objects/stream-object";
import type { TopicObject } from "../objects/topic-object";
import type { VhostObject } from "../objects/vhost-object";

type RpcMethods<T> = {
  [K in keyof T as T[K] extends (...args: never[]) => unknown ? K : never]: T[K] extends (
    ...args: infer A
  ) => infer R
    ? (...args: A) => Promise<Awaited<R>>
    : never;
};

function typed<T>(stub: unknown): RpcMethods<T> {
  return stub as RpcMethods<T>;
}

export function exchangeStub(env: Env, vhost: string, name: string): RpcMethods<ExchangeObject> {
  return typed(env.EXCHANGES.getByName(JSON.stringify([vhost, name])));
}

export function queueStub(env: Env, vhost: string, name: string): RpcMethods<QueueObject> {
  return typed(env.QUEUES.getByName(JSON.stringify([vhost, name])));
}

export function vhostStub(env: Env, vhost: string): RpcMethods<VhostObject> {
  return typed(env.VHOSTS.getByName(JSON.stringify([vhost])));
}

/** The one registry of users, vhosts and permissions. */
export function registryStub(env: Env): RpcMethods<RegistryObject> {
  return typed(env.REGISTRY.getByName("registry"));
}

/** A notification user's inbox, named by the user's id (the routing key that reaches it). */
export function inboxStub(env: Env, vhost: string, userId: string): RpcMethods<InboxObject> {
  return typed(env.INBOXES.getByName(JSON.stringify([vhost, userId])));
}

/** The raw stub, for handing a WebSocket upgrade to the inbox (`stub.fetch(request)`). */
export function inboxFetcher(env: Env, vhost: string, userId: string): Fetcher {
  return env.INBOXES.getByName(JSON.stringify([vhost, userId]));
}

/** A stream queue or one partition of a topic (docs/streams.md). */
export function streamStub(env: Env, vhost: string, name: string): RpcMethods<StreamObject> {
  return typed(env.STREAMS.getByName(JSON.stringify([vhost, name])));
}

export function topicStub(env: Env, vhost: string, name: string): RpcMethods<TopicObject> {
  return typed(env.TOPICS.getByName(JSON.stringify([vhost, name])));
}

export function groupStub(env: Env, vhost: string, name: string): RpcMethods<GroupObject> {
  return typed(env.GROUPS.getByName(JSON.stringify([vhost, name])));
}

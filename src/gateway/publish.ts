/**
 * The publish path from the Worker: to an exchange object (which routes and fans out), or, for
 * the default exchange, straight to the queue named by each routing key (every queue is bound
 * to the default exchange by its own name). Answers once every routed copy is stored.
 */
import type { Env } from "../env";
import { fail, type Result, unwrap } from "../errors";
import { isBuiltinExchange } from "../protocol/builtin-exchanges";
import type { PublishedMessage } from "../protocol/message";
import { DEFAULT_EXCHANGE, describe } from "../protocol/names";
import { combineRouted, isStored, type Routed, refusedBy } from "../protocol/publish-outcome";
import { RequestCoalescer } from "../runtime/request-coalescer";
import { exchangeStub, queueStub, streamStub, vhostStub } from "./stubs";

/**
 * Single HTTP publishes in flight at once in this isolate, per (vhost, exchange): sent as one
 * call per destination (src/runtime/request-coalescer.ts), so 16 concurrent publishes into one
 * queue cost the queue object one event and one commit, not sixteen.
 */
const httpPublishes = new RequestCoalescer<PublishedMessage, Routed>(
  { maxItems: 100, maxBytes: 4 * 1024 * 1024 },
  (message) => message.body.byteLength + 256,
);

/**
 * `publishWithOutcomes` for one request among many concurrent ones: the messages join whatever
 * other requests of this isolate publish to the same exchange meanwhile. Each message is routed
 * when its batch is sent (after it arrived), so a binding made before the publish is answered
 * still routes it; each outcome is its own message's.
 */
export function publishFromRequest(
  env: Env,
  vhost: string,
  exchange: string,
  messages: readonly PublishedMessage[],
  waitUntil: (work: Promise<unknown>) => void,
): Promise<Routed[]> {
  return httpPublishes.submit(JSON.stringify([vhost, exchange]), messages, {
    send: (batch) => publishWithOutcomes(env, vhost, exchange, batch),
    waitUntil,
  });
}

/**
 * Publishes and answers, per message, whether the broker stored it: in some destination, or held
 * by a delayed exchange for later.
 */
export async function publishMessages(
  env: Env,
  vhost: string,
  exchange: string,
  messages: readonly PublishedMessage[],
): Promise<boolean[]> {
  const outcomes = await publishWithOutcomes(env, vhost, exchange, messages);
  return outcomes.map(isStored);
}

/**
 * Publishes and answers each message's outcome, refusals by full queues included (x-overflow
 * reject-publish): what publishers are confirmed or nacked with.
 */
export async function publishWithOutcomes(
  env: Env,
  vhost: string,
  exchange: string,
  messages: readonly PublishedMessage[],
): Promise<Routed[]> {
  if (exchange === DEFAULT_EXCHANGE) {
    return publishToDefaultExchange(env, vhost, messages);
  }
  const stub = exchangeStub(env, vhost, exchange);
  let result = await stub.publish(messages);
  if (!result.ok && result.code === "not_found" && isBuiltinExchange(exchange)) {
    // The built-in exchanges are declared when their vhost is first used: make sure it was.
    unwrap(await vhostStub(env, vhost).ensure(vhost));
    result = await stub.publish(messages);
  }
  if (!result.ok && result.code === "not_found") {
    // RabbitMQ's reason for basic.publish to a missing exchange (the channel error's text).
    unwrap(fail("not_found", `no ${describe("exchange", exchange, vhost)}`));
  }
  return unwrap(result).routed;
}

async function publishToDefaultExchange(
  env: Env,
  vhost: string,
  messages: readonly PublishedMessage[],
): Promise<Routed[]> {
  const first = messages[0]?.routingKey;
  const oneQueue = first !== undefined && messages.every((m) => m.routingKey === first);
  const routed: Routed[] = oneQueue
    ? // The usual case (a frame or request for one queue, one message at low rates): one call,
      // without the grouping, index lists and fan-out below.
      await enqueueInto(env, vhost, first, messages)
    : await enqueueGrouped(env, vhost, messages);
  if (!routed.some((outcome) => outcome !== false)) {
    // Unroutable: the cold path may afford telling an unknown vhost (404) from no such queue.
    unwrap(await vhostStub(env, vhost).ensure(vhost));
  }
  return routed;
}

/** Messages for several queues: one call per queue, concurrently, outcomes in the batch's order. */
async function enqueueGrouped(
  env: Env,
  vhost: string,
  messages: readonly PublishedMessage[],
): Promise<Routed[]> {
  const byQueue = Map.groupBy(
    messages.keys(),
    (index) => (messages[index] as PublishedMessage).routingKey,
  );
  const routed: Routed[] = messages.map(() => false);
  await Promise.all(
    [...byQueue].map(async ([queue, indexes]) => {
      const outcomes = await enqueueInto(
        env,
        vhost,
        queue,
        indexes.map((i) => messages[i] as PublishedMessage),
      );
      indexes.forEach((i, j) => {
        routed[i] = combineRouted(routed[i] as Routed, outcomes[j] as Routed);
      });
    }),
  );
  return routed;
}

/**
 * Messages into the queue (or stream) named `queue`, each answered `true` (stored), `false` (no
 * such queue) or refused (the queue is full and rejects publishes).
 */
async function enqueueInto(
  env: Env,
  vhost: string,
  queue: string,
  batch: readonly PublishedMessage[],
): Promise<Routed[]> {
  let stored: Result<{ refused?: number[] }> = await queueStub(env, vhost, queue).enqueue(batch);
  if (!stored.ok && stored.code === "not_found") {
    // Not a classic queue: a stream queue is reached by its name too (docs/streams.md).
    stored = await streamStub(env, vhost, queue).enqueue(batch);
  }
  if (!stored.ok) return batch.map(() => false);
  const refused = stored.refused;
  if (refused === undefined || refused.length === 0) return batch.map(() => true);
  const refusedAt = new Set(refused);
  return batch.map((_, j) => (refusedAt.has(j) ? refusedBy(queue, vhost) : true));
}

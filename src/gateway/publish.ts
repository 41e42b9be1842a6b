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
import { exchangeStub, queueStub, streamStub, vhostStub } from "./stubs";

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
  const byQueue = new Map<string, number[]>();
  messages.forEach((message, index) => {
    const list = byQueue.get(message.routingKey);
    if (list) list.push(index);
    else byQueue.set(message.routingKey, [index]);
  });
  const routed: Routed[] = messages.map(() => false);
  await Promise.all(
    [...byQueue].map(async ([queue, indexes]) => {
      const batch = indexes.map((i) => messages[i] as PublishedMessage);
      let stored: Result<{ refused?: number[] }> = await queueStub(env, vhost, queue).enqueue(
        batch,
      );
      if (!stored.ok && stored.code === "not_found") {
        // Not a classic queue: a stream queue is reached by its name too (docs/streams.md).
        stored = await streamStub(env, vhost, queue).enqueue(batch);
      }
      if (stored.ok) {
        const refused = new Set(stored.refused ?? []);
        indexes.forEach((i, j) => {
          routed[i] = combineRouted(
            routed[i] as Routed,
            refused.has(j) ? refusedBy(queue, vhost) : true,
          );
        });
      }
    }),
  );
  if (!routed.some((outcome) => outcome !== false)) {
    // Unroutable: the cold path may afford telling an unknown vhost (404) from no such queue.
    unwrap(await vhostStub(env, vhost).ensure(vhost));
  }
  return routed;
}

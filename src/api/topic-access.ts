/**
 * The checks that depend on an exchange's type: topic permissions apply to topic exchanges only
 * (https://www.rabbitmq.com/docs/access-control#topic-authorisation). The type is looked up only
 * for a user that has topic permissions on that exchange, and kept per isolate for
 * LIMITS.accessCacheMs, so the publish path stays off the catalog.
 */
import type { UserAccess } from "../access/user-access";
import { LIMITS } from "../config";
import type { Env } from "../env";
import { vhostStub } from "../gateway/stubs";
import { builtinExchange } from "../protocol/builtin-exchanges";
import { DEFAULT_EXCHANGE } from "../protocol/names";
import type { AppContext } from "./context";
import { authorize, currentOperation, requireTopicPermission } from "./guards";

const types = new Map<string, { type: string | null; until: number }>();

async function exchangeTypeOf(env: Env, vhost: string, name: string): Promise<string | null> {
  if (name === DEFAULT_EXCHANGE) return "direct";
  const builtin = builtinExchange(vhost, name);
  if (builtin) return builtin.type;
  const key = JSON.stringify([vhost, name]);
  const hit = types.get(key);
  if (hit && hit.until > Date.now()) return hit.type;
  const answer = await vhostStub(env, vhost).getExchange(vhost, name);
  const type = answer.ok ? answer.exchange.type : null;
  if (types.size >= 1000) types.clear();
  types.set(key, { type, until: Date.now() + LIMITS.accessCacheMs });
  return type;
}

/** Whether the user's topic permissions restrict this exchange (only topic exchanges count). */
export async function isRestrictedTopic(
  env: Env,
  access: UserAccess,
  vhost: string,
  exchange: string,
): Promise<boolean> {
  return (
    access.topicPermissions.some((p) => p.vhost === vhost && p.exchange === exchange) &&
    (await exchangeTypeOf(env, vhost, exchange)) === "topic"
  );
}

/**
 * queue.bind / exchange.bind and their unbinds, as the route's operation says (binding.queue,
 * binding.exchange, binding.inbox): write on the destination (for an inbox, the administrator
 * tag), read on the source exchange, and topic read on the binding key when the source is a
 * topic exchange.
 */
export async function requireBindingPermissions(
  c: AppContext,
  vhost: string,
  source: string,
  destination: string,
  routingKey: string | null,
): Promise<void> {
  authorize(c, { vhost, source, destination });
  const topic = currentOperation(c).topic;
  if (
    topic !== undefined &&
    routingKey !== null &&
    (await isRestrictedTopic(c.env, c.get("principal"), vhost, source))
  ) {
    requireTopicPermission(c, vhost, topic, source, routingKey);
  }
}

/**
 * Who may publish what, for HTTP publishes and WebSocket publish frames alike: basic.publish
 * needs write on the exchange (RabbitMQ's access-control table), topic write on each routing key
 * when the exchange is a topic exchange the user has topic permissions on, and a `user_id`
 * property, when set, must name the publishing user (RabbitMQ refuses a forged one).
 */
import { allows, allowsTopic, refusal, type UserAccess } from "../access/user-access";
import type { Env } from "../env";
import { BrokerError } from "../errors";
import type { PublishedMessage } from "../protocol/message";
import type { AppContext } from "./context";
import { isRestrictedTopic } from "./topic-access";

export async function publishRefusal(
  env: Env,
  access: UserAccess,
  vhost: string,
  exchange: string,
  messages: readonly PublishedMessage[],
): Promise<BrokerError | null> {
  if (!allows(access, vhost, "write", "exchange", exchange)) {
    return new BrokerError("access_refused", refusal(access, vhost, "write", "exchange", exchange));
  }
  for (const message of messages) {
    const claimed = message.properties.user_id;
    if (claimed !== undefined && claimed !== access.name) {
      return new BrokerError(
        "bad_request",
        `PRECONDITION_FAILED - user_id property set to '${claimed}' but authenticated user was '${access.name}'`,
      );
    }
  }
  if (await isRestrictedTopic(env, access, vhost, exchange)) {
    for (const key of new Set(messages.map((m) => m.routingKey))) {
      if (!allowsTopic(access, vhost, "write", exchange, key)) {
        return new BrokerError(
          "access_refused",
          `write access to topic '${key}' in exchange '${exchange}' in vhost '${vhost}' refused for user '${access.name}'`,
        );
      }
    }
  }
  return null;
}

export async function requirePublish(
  c: AppContext,
  vhost: string,
  exchange: string,
  messages: readonly PublishedMessage[],
): Promise<void> {
  const refused = await publishRefusal(c.env, c.get("principal"), vhost, exchange, messages);
  if (refused) throw refused;
}

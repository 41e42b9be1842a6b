/**
 * Who may publish what, for HTTP publishes (exchange.publish) and WebSocket publish frames
 * (frame.publish) alike, as the permission table says (src/access/operations.ts): write on the
 * exchange, topic write on each routing key when the exchange is a topic exchange the user has
 * topic permissions on; and a `user_id` property, when set, must name the publishing user
 * (RabbitMQ refuses a forged one).
 */
import { grantRefusal } from "../access/operation-check";
import type { Operation } from "../access/operations";
import { allowsTopic, refusal, type UserAccess } from "../access/user-access";
import type { Env } from "../env";
import { BrokerError } from "../errors";
import type { PublishedMessage } from "../protocol/message";
import type { AppContext } from "./context";
import { currentOperation } from "./guards";
import { isRestrictedTopic } from "./topic-access";

export async function publishRefusal(
  env: Env,
  access: UserAccess,
  operation: Operation,
  vhost: string,
  exchange: string,
  messages: readonly PublishedMessage[],
): Promise<BrokerError | null> {
  const refused = grantRefusal(access, operation, { vhost, name: exchange });
  if (refused?.kind === "permission") {
    const { grant, name } = refused;
    return new BrokerError(
      "access_refused",
      refusal(access, vhost, grant.permission, grant.on, name),
    );
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
  const topic = operation.topic;
  if (topic !== undefined && (await isRestrictedTopic(env, access, vhost, exchange))) {
    for (const key of new Set(messages.map((m) => m.routingKey))) {
      if (!allowsTopic(access, vhost, topic, exchange, key)) {
        return new BrokerError(
          "access_refused",
          `${topic} access to topic '${key}' in exchange '${exchange}' in vhost '${vhost}' refused for user '${access.name}'`,
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
  const principal = c.get("principal");
  const operation = currentOperation(c);
  const refused = await publishRefusal(c.env, principal, operation, vhost, exchange, messages);
  if (refused) throw refused;
}

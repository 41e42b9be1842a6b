/**
 * Publishing over HTTP: RabbitMQ's `POST /api/exchanges/{vhost}/{exchange}/publish`, answering
 * `{"routed": bool}` only after every routed copy is stored, and this broker's batch extension
 * `POST .../publish-batch` taking `{"messages": [...]}` (each message shaped like a single
 * publish) and answering `{"results": [{"routed": bool}, ...]}` in the same order.
 */
import type { Hono } from "hono";
import { z } from "zod";
import { LIMITS } from "../config";
import { BrokerError } from "../errors";
import { publishMessages } from "../objects/publish";
import type { PublishedMessage } from "../protocol/message";
import { parseWith, readJson } from "./body";
import type { AppContext, AppEnv } from "./context";
import { requirePermission } from "./guards";
import { toMessage } from "./message-input";
import { exchangeParam, vhostParam } from "./params";
import { resource } from "./routes";
import { requirePublishTopics } from "./topic-access";

const batchBodySchema = z.object({
  messages: z.array(z.unknown()).min(1).max(LIMITS.maxBatchMessages),
});

/**
 * basic.publish needs write on the exchange (RabbitMQ's table), topic write on each routing key
 * when the exchange is a topic exchange, and a `user_id` property, when set, must name the
 * publishing user (RabbitMQ refuses a forged one: "user_id property set to 'x' but authenticated
 * user was 'y'").
 */
async function authorizePublish(
  c: AppContext,
  vhost: string,
  exchange: string,
  messages: readonly PublishedMessage[],
): Promise<void> {
  requirePermission(c, vhost, "write", "exchange", exchange);
  const user = c.get("principal").name;
  for (const message of messages) {
    const claimed = message.properties.user_id;
    if (claimed !== undefined && claimed !== user) {
      throw new BrokerError(
        "bad_request",
        `PRECONDITION_FAILED - user_id property set to '${claimed}' but authenticated user was '${user}'`,
      );
    }
  }
  await requirePublishTopics(
    c,
    vhost,
    exchange,
    messages.map((m) => m.routingKey),
  );
}

export function publishRoutes(app: Hono<AppEnv>): void {
  resource(app, "/api/exchanges/:vhost/:name/publish", {
    POST: async (c) => {
      const vhost = vhostParam(c);
      const exchange = exchangeParam(c);
      const config = c.get("config");
      // The JSON of a message may be up to ~4/3 of its size (base64) plus its envelope.
      const json = await readJson(c, config.maxMessageBytes * 2 + 64 * 1024);
      const message = toMessage(exchange, json, config);
      await authorizePublish(c, vhost, exchange, [message]);
      const [routed] = await publishMessages(c.env, vhost, exchange, [message]);
      return c.json({ routed: routed === true });
    },
  });

  resource(app, "/api/exchanges/:vhost/:name/publish-batch", {
    POST: async (c) => {
      const vhost = vhostParam(c);
      const exchange = exchangeParam(c);
      const config = c.get("config");
      const { messages } = parseWith(batchBodySchema, await readJson(c));
      const parsed = messages.map((raw, i) => toMessage(exchange, raw, config, `messages.${i}`));
      await authorizePublish(c, vhost, exchange, parsed);
      const routed = await publishMessages(c.env, vhost, exchange, parsed);
      return c.json({ results: routed.map((r) => ({ routed: r })) });
    },
  });
}

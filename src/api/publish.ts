/**
 * Publishing over HTTP: RabbitMQ's `POST /api/exchanges/{vhost}/{exchange}/publish`, answering
 * `{"routed": bool}` only after every routed copy is stored, and this broker's batch extension
 * `POST .../publish-batch` taking `{"messages": [...]}` (each message shaped like a single
 * publish) and answering `{"results": [{"routed": bool}, ...]}` in the same order.
 *
 * A message a full queue refuses (x-overflow reject-publish) is RabbitMQ's `400 bad_request`
 * "rejected ..." on the single publish, and `{"routed": false, "refused": true, "reason": ...}`
 * in a batch's results (the other messages of the batch go on).
 */
import type { Hono } from "hono";
import { z } from "zod";
import { LIMITS } from "../config";
import { BrokerError } from "../errors";
import { publishWithOutcomes } from "../gateway/publish";
import { publishBodySchema } from "../protocol/publish-body";
import {
  DELAYED,
  isRefused,
  isStored,
  REJECTED_REASON,
  type Routed,
} from "../protocol/publish-outcome";
import { parseWith, readJson } from "./body";
import type { AppEnv } from "./context";
import { toMessage } from "./message-input";
import { exchangeParam, vhostParam } from "./params";
import { requirePublish } from "./publish-access";
import { resource } from "./routes";

const batchBodySchema = z.object({
  messages: z.array(publishBodySchema).min(1).max(LIMITS.maxBatchMessages),
});

/**
 * RabbitMQ's management API relays a publish to a missing exchange as the channel error it is:
 * `400 {"error":"bad_request","reason":"404 NOT_FOUND - no exchange 'x' in vhost '/'"}`.
 */
async function publishOverHttp(
  ...args: Parameters<typeof publishWithOutcomes>
): ReturnType<typeof publishWithOutcomes> {
  try {
    return await publishWithOutcomes(...args);
  } catch (error) {
    if (
      error instanceof BrokerError &&
      error.code === "not_found" &&
      error.reason !== "Not Found"
    ) {
      throw new BrokerError("bad_request", `404 NOT_FOUND - ${error.reason}`);
    }
    throw error;
  }
}

/**
 * One message's answer. A message a delayed exchange holds is `{"routed": true, "delayed": true}`:
 * stored, and routed when due (the plugin's RabbitMQ answers `routed: false`, see
 * docs/queue-features.md).
 */
function publishAnswer(outcome: Routed | undefined) {
  if (isRefused(outcome)) return { routed: false, refused: true, reason: outcome.refused };
  if (outcome === DELAYED) return { routed: true, delayed: true };
  return { routed: isStored(outcome) };
}

export function publishRoutes(app: Hono<AppEnv>): void {
  resource(
    app,
    "/api/exchanges/:vhost/:name/publish",
    {
      POST: async (c) => {
        const vhost = vhostParam(c);
        const exchange = exchangeParam(c);
        const config = c.get("config");
        // The JSON of a message may be up to ~4/3 of its size (base64) plus its envelope.
        const json = await readJson(c, config.maxMessageBytes * 2 + 64 * 1024);
        const message = toMessage(exchange, json, config);
        await requirePublish(c, vhost, exchange, [message]);
        const [routed] = await publishOverHttp(c.env, vhost, exchange, [message]);
        if (isRefused(routed)) throw new BrokerError("bad_request", REJECTED_REASON);
        return c.json(publishAnswer(routed));
      },
    },
    {
      POST: {
        summary: 'Publish a message; answers {"routed"} once stored',
        body: publishBodySchema,
      },
    },
  );

  resource(
    app,
    "/api/exchanges/:vhost/:name/publish-batch",
    {
      POST: async (c) => {
        const vhost = vhostParam(c);
        const exchange = exchangeParam(c);
        const config = c.get("config");
        const { messages } = parseWith(batchBodySchema, await readJson(c));
        const parsed = messages.map((raw, i) => toMessage(exchange, raw, config, `messages.${i}`));
        await requirePublish(c, vhost, exchange, parsed);
        const routed = await publishOverHttp(c.env, vhost, exchange, parsed);
        return c.json({ results: routed.map(publishAnswer) });
      },
    },
    { POST: { summary: "Publish up to 1,000 messages (extension)", body: batchBodySchema } },
  );
}

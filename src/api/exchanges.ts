/** /api/exchanges: declare, read, list and delete exchanges (RabbitMQ management API). */
import type { Hono } from "hono";
import { BrokerError, unwrap } from "../errors";
import { exchangeStub, vhostStub } from "../gateway/stubs";
import {
  checkExchangeArguments,
  type ExchangeDeclaration,
  exchangeBodySchema,
} from "../protocol/declarations";
import { describe, isReservedName } from "../protocol/names";
import { DELAYED_MESSAGE_TYPE, isDeclarableType } from "../routing/delayed";
import { parseBody } from "./body";
import type { AppContext, AppEnv } from "./context";
import { authorize, knownVhosts } from "./guards";
import { listPresented } from "./pagination";
import { exchangeParam, flagQuery, vhostParam } from "./params";
import { resource } from "./routes";

/** The default exchange as RabbitMQ shows it: nameless, direct, always there. */
function defaultExchange(vhost: string): ExchangeDeclaration {
  return {
    name: "",
    vhost,
    type: "direct",
    durable: true,
    auto_delete: false,
    internal: false,
    arguments: {},
  };
}

const DECLARATION_KEYS: ReadonlySet<string> = new Set([
  "name",
  "vhost",
  "type",
  "durable",
  "auto_delete",
  "internal",
  "arguments",
]);

function describeExchange(exchange: ExchangeDeclaration): Record<string, unknown> {
  return {
    name: exchange.name,
    vhost: exchange.vhost,
    type: exchange.type,
    durable: exchange.durable,
    auto_delete: exchange.auto_delete,
    internal: exchange.internal,
    arguments: exchange.arguments,
  };
}

/**
 * With the exchange's message_stats (publish_in, publish_out) from its object, and a delayed
 * exchange's messages_delayed. The default
 * exchange has no object (its publishes go straight to the queue), so it shows none.
 */
async function present(c: AppContext, exchange: ExchangeDeclaration) {
  const answer =
    exchange.name === "" ? null : await exchangeStub(c.env, exchange.vhost, exchange.name).stats();
  const presented = {
    ...describeExchange(exchange),
    message_stats: answer?.ok ? answer.messageStats : {},
  };
  // The delayed-message plugin adds its exchanges' held count (its info/1): `messages_delayed`.
  if (exchange.type !== DELAYED_MESSAGE_TYPE) return presented;
  return { ...presented, messages_delayed: answer?.ok ? (answer.messagesDelayed ?? 0) : 0 };
}

/** The vhost's exchanges as declared, the default exchange first. */
export async function declaredExchanges(
  c: AppContext,
  vhost: string,
): Promise<ExchangeDeclaration[]> {
  const { exchanges } = unwrap(await vhostStub(c.env, vhost).listExchanges(vhost));
  return [defaultExchange(vhost), ...exchanges];
}

function listExchanges(c: AppContext, exchanges: ExchangeDeclaration[]) {
  return listPresented(c, exchanges, (exchange) => present(c, exchange), DECLARATION_KEYS);
}

export function exchangeRoutes(app: Hono<AppEnv>): void {
  resource(
    app,
    "/api/exchanges",
    {
      GET: async (c) => {
        const all = await Promise.all(knownVhosts(c).map((vhost) => declaredExchanges(c, vhost)));
        return c.json(await listExchanges(c, all.flat()));
      },
    },
    { GET: { summary: "Exchanges in every vhost the user sees" } },
  );

  resource(
    app,
    "/api/exchanges/:vhost",
    {
      GET: async (c) => c.json(await listExchanges(c, await declaredExchanges(c, vhostParam(c)))),
    },
    { GET: { summary: "Exchanges of a vhost" } },
  );

  resource(
    app,
    "/api/exchanges/:vhost/:name",
    {
      GET: async (c) => {
        const vhost = vhostParam(c);
        const name = exchangeParam(c);
        if (name === "") {
          unwrap(await vhostStub(c.env, vhost).ensure(vhost));
          return c.json(await present(c, defaultExchange(vhost)));
        }
        const { exchange } = unwrap(await vhostStub(c.env, vhost).getExchange(vhost, name));
        return c.json(await present(c, exchange));
      },
      PUT: async (c) => {
        const vhost = vhostParam(c);
        const name = exchangeParam(c);
        const body = await parseBody(c, exchangeBodySchema);
        if (name === "" || isReservedName(name)) {
          throw new BrokerError(
            "access_refused",
            `exchange name '${name || "amq.default"}' contains reserved prefix 'amq.*'`,
          );
        }
        const type = body.type;
        if (!isDeclarableType(type)) {
          throw new BrokerError("bad_request", `unknown exchange type '${type}'`);
        }
        const badArgument = checkExchangeArguments(type, body.arguments);
        if (badArgument) throw BrokerError.from(badArgument);
        const alternate = body.arguments["alternate-exchange"];
        // With an AE, also write on the AE and read on the exchange (exchange.declare's grants).
        authorize(c, {
          vhost,
          name,
          ...(typeof alternate === "string" ? { alternate } : {}),
        });
        const declaration: ExchangeDeclaration = {
          name,
          vhost,
          type,
          durable: body.durable,
          auto_delete: body.auto_delete,
          internal: body.internal,
          arguments: body.arguments,
        };
        const { created } = unwrap(await vhostStub(c.env, vhost).declareExchange(declaration));
        return c.body(null, created ? 201 : 204);
      },
      DELETE: async (c) => {
        const vhost = vhostParam(c);
        const name = exchangeParam(c);
        if (name === "") {
          throw new BrokerError(
            "access_refused",
            `operation not permitted on the default ${describe("exchange", "", vhost)}`,
          );
        }
        authorize(c, { vhost, name });
        unwrap(
          await vhostStub(c.env, vhost).deleteExchange(vhost, name, {
            ifUnused: flagQuery(c, "if-unused"),
          }),
        );
        return c.body(null, 204);
      },
    },
    {
      GET: { summary: "An exchange" },
      PUT: { summary: "Declare an exchange", body: exchangeBodySchema },
      DELETE: { summary: "Delete an exchange (?if-unused=true)" },
    },
  );
}

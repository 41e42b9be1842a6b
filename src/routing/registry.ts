/**
 * The exchange types this broker knows, by name. RabbitMQ's built-in types are exactly these
 * four; of the plugin types, `x-delayed-message` is declarable (routing/delayed.ts) and routes
 * through one of these.
 */
import { type DeclaredExchangeType, routingTypeName } from "./delayed";
import { directExchange } from "./direct";
import {
  EXCHANGE_TYPE_NAMES,
  type ExchangeType,
  type ExchangeTypeName,
  type FieldTable,
} from "./exchange-type";
import { fanoutExchange } from "./fanout";
import { headersExchange } from "./headers";
import { topicExchange } from "./topic";

export const exchangeTypes: Record<ExchangeTypeName, ExchangeType> = {
  direct: directExchange,
  fanout: fanoutExchange,
  topic: topicExchange,
  headers: headersExchange,
};

export function isExchangeTypeName(name: string): name is ExchangeTypeName {
  return (EXCHANGE_TYPE_NAMES as readonly string[]).includes(name);
}

/** Looks a type up by a client-supplied name; never returns inherited keys like "toString". */
export function getExchangeType(name: string): ExchangeType | undefined {
  return isExchangeTypeName(name) ? exchangeTypes[name] : undefined;
}

/** How an exchange routes: by its own type, or a delayed exchange by its x-delayed-type. */
export function routingTypeOf(declaration: {
  readonly type: DeclaredExchangeType;
  readonly arguments: FieldTable;
}): ExchangeType {
  return exchangeTypes[routingTypeName(declaration)];
}

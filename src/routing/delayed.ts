/**
 * The `x-delayed-message` exchange type, the interface of RabbitMQ's delayed-message plugin
 * (rabbitmq-delayed-message-exchange): the exchange routes like the type named by its
 * `x-delayed-type` argument, and a message carrying a positive `x-delay` header (milliseconds)
 * is held and routed that much later, through the exchange's bindings as they are then. Pure: the
 * exchange object stores held messages and schedules their release (docs/queue-features.md).
 */
import { EXCHANGE_TYPE_NAMES, type ExchangeTypeName, type FieldTable } from "./exchange-type";

export const DELAYED_MESSAGE_TYPE = "x-delayed-message";
export const DELAYED_TYPE_ARGUMENT = "x-delayed-type";
export const DELAY_HEADER = "x-delay";

/** Every type an exchange may be declared with: the routing types and the delayed type. */
export const DECLARABLE_EXCHANGE_TYPES = [...EXCHANGE_TYPE_NAMES, DELAYED_MESSAGE_TYPE] as const;
export type DeclaredExchangeType = (typeof DECLARABLE_EXCHANGE_TYPES)[number];

/** The latest time a JavaScript Date can hold: a longer delay waits until then. */
export const LATEST_RELEASE_AT = 8.64e15;

export function isDeclarableType(name: string): name is DeclaredExchangeType {
  return (DECLARABLE_EXCHANGE_TYPES as readonly string[]).includes(name);
}

/**
 * Why a delayed exchange's `x-delayed-type` is refused, in the plugin's words
 * (rabbit_exchange_type_delayed_message:validate/1), or null when it names a routing type.
 */
export function delayedTypeProblem(args: FieldTable): string | null {
  const type = args[DELAYED_TYPE_ARGUMENT];
  if (type === DELAYED_MESSAGE_TYPE) {
    return "406 PRECONDITION_FAILED - Invalid argument, 'x-delayed-message' can't be used for 'x-delayed-type'";
  }
  if (typeof type !== "string") {
    return "406 PRECONDITION_FAILED - Invalid argument, 'x-delayed-type' must be an existing exchange type";
  }
  // rabbit_exchange:check_type's reason, the one an unknown `type` gets.
  if (!(EXCHANGE_TYPE_NAMES as readonly string[]).includes(type)) {
    return `unknown exchange type '${type}'`;
  }
  return null;
}

/** The routing type of a declaration: its own, or the x-delayed-type of a delayed exchange. */
export function routingTypeName(declaration: {
  readonly type: DeclaredExchangeType;
  readonly arguments: FieldTable;
}): ExchangeTypeName {
  if (declaration.type !== DELAYED_MESSAGE_TYPE) return declaration.type;
  // Declarations are validated (delayedTypeProblem) before they are stored.
  return declaration.arguments[DELAYED_TYPE_ARGUMENT] as ExchangeTypeName;
}

/**
 * The delay a message asks for, read as the plugin reads `x-delay`
 * (rabbit_delayed_message_utils:get_delay/1): an integer as it is, a decimal truncated, a string
 * of digits parsed. Anything else, absent, zero or negative means "route now" (0). Unlike the
 * plugin, a delay over 2^32-1 ms (~49.7 days) is held too, not routed at once.
 */
export function delayOf(headers: FieldTable | undefined): number {
  const value = headers?.[DELAY_HEADER];
  let delay = 0;
  if (typeof value === "number" && Number.isFinite(value)) delay = Math.trunc(value);
  else if (typeof value === "string" && /^[+-]?\d+$/.test(value.trim())) delay = Number(value);
  return Math.max(delay, 0);
}

/** When a message held for `delay` ms from `now` is due (never past what a Date can hold). */
export function releaseTime(now: number, delay: number): number {
  return Math.min(now + delay, LATEST_RELEASE_AT);
}

/**
 * The headers a held message is released with: `x-delay` turned negative, as the plugin does
 * (swap_delay_header/1), so another delayed exchange it passes through routes it at once while
 * consumers can still tell it was delayed.
 */
export function releasedHeaders(headers: FieldTable | undefined): FieldTable {
  const delay = delayOf(headers);
  return { ...headers, [DELAY_HEADER]: -delay };
}

/**
 * The one interface every exchange type implements (house style: small interface, many
 * implementations, one shared conformance suite). Pure: no cloudflare:* imports.
 *
 * A binding is compiled once, when it is bound; an exchange keeps its compiled bindings in a
 * RoutingIndex built by its type, and each publish asks the index which bindings match.
 */

/** Binding arguments and message headers: AMQP field tables, as JSON values. */
export type FieldTable = Record<string, unknown>;

export const EXCHANGE_TYPE_NAMES = ["direct", "fanout", "topic", "headers"] as const;
export type ExchangeTypeName = (typeof EXCHANGE_TYPE_NAMES)[number];

/** What routing looks at in a message. */
export interface RoutableMessage {
  readonly routingKey: string;
  readonly headers?: FieldTable | undefined;
}

export type CompileResult<C> = { ok: true; compiled: C } | { ok: false; reason: string };

/** The compiled bindings of one exchange. Ids are chosen by the caller and unique per index. */
export interface RoutingIndex<C> {
  add(id: string, compiled: C): void;
  remove(id: string): void;
  /** Adds the id of every binding that matches the message to `out`. Must not grow any state. */
  match(message: RoutableMessage, out: Set<string>): void;
  readonly size: number;
}

export interface ExchangeType<C = unknown> {
  readonly name: ExchangeTypeName;
  /** Validates and compiles one binding; an invalid argument is a reason, not an exception. */
  compile(bindingKey: string, args: FieldTable): CompileResult<C>;
  createIndex(): RoutingIndex<C>;
}

/** Shared test plumbing: compile-or-fail, build an index from bindings, route a message. */
import { expect } from "vitest";
import type {
  ExchangeType,
  FieldTable,
  RoutableMessage,
  RoutingIndex,
} from "../../src/routing/exchange-type";

export function compileOrFail<C>(
  type: ExchangeType<C>,
  bindingKey: string,
  args: FieldTable = {},
): C {
  const result = type.compile(bindingKey, args);
  if (!result.ok)
    expect.fail(`expected ${JSON.stringify(bindingKey)} to compile: ${result.reason}`);
  return result.compiled;
}

/** Builds an index from [id, bindingKey, args?] triples, in order. */
export function indexOf<C>(
  type: ExchangeType<C>,
  bindings: readonly (readonly [id: string, bindingKey: string, args?: FieldTable])[],
): RoutingIndex<C> {
  const index = type.createIndex();
  for (const [id, key, args] of bindings) index.add(id, compileOrFail(type, key, args));
  return index;
}

/** The ids a message routes to, sorted so assertions do not depend on set order. */
export function route<C>(
  index: RoutingIndex<C>,
  routingKey: string,
  headers?: FieldTable,
): string[] {
  const out = new Set<string>();
  const message: RoutableMessage = { routingKey, headers };
  index.match(message, out);
  return [...out].sort();
}

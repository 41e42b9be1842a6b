/**
 * One specimen per exchange type for the shared behaviour suites (test/routing/exchange-types
 * .test.ts, pure; the end of test/api/routing.test.ts, through the broker): a binding, a message it
 * routes, and for types that can miss, a message it does not route and a binding that routes that
 * one instead. Typed by ExchangeTypeName, so a new type does not type-check until it has one.
 */
import type {
  ExchangeTypeName,
  FieldTable,
  RoutableMessage,
} from "../../src/routing/exchange-type";

export interface Binding {
  readonly key: string;
  readonly args: FieldTable;
}

export interface Specimen {
  readonly binding: Binding;
  /** A message `binding` routes. */
  readonly routes: RoutableMessage;
  /** A message `binding` does not route, and a binding that routes it but not `routes` (none for fanout). */
  readonly misses?: { readonly message: RoutableMessage; readonly binding: Binding };
  /** A binding the type refuses to compile, if it refuses any. */
  readonly invalid?: Binding;
}

export const SPECIMENS: Record<ExchangeTypeName, Specimen> = {
  direct: {
    binding: { key: "orders", args: {} },
    routes: { routingKey: "orders" },
    misses: { message: { routingKey: "Orders" }, binding: { key: "Orders", args: {} } },
  },
  fanout: {
    binding: { key: "", args: {} },
    routes: { routingKey: "anything" },
  },
  topic: {
    binding: { key: "order.*", args: {} },
    routes: { routingKey: "order.created" },
    misses: {
      message: { routingKey: "invoice.created" },
      binding: { key: "invoice.#", args: {} },
    },
  },
  headers: {
    binding: { key: "", args: { "x-match": "all", kind: "order" } },
    routes: { routingKey: "", headers: { kind: "order" } },
    misses: {
      message: { routingKey: "", headers: { kind: "invoice" } },
      binding: { key: "", args: { "x-match": "any", kind: "invoice" } },
    },
    invalid: { key: "", args: { "x-match": "some" } },
  },
};

export const SPECIMEN_LIST = Object.entries(SPECIMENS) as [ExchangeTypeName, Specimen][];

/**
 * Headers exchange, following RabbitMQ's rabbit_exchange_type_headers: the routing key is
 * ignored and a binding's arguments are matched against the message headers.
 *
 * `x-match` selects the mode: "all" (the default when absent) needs every argument to match,
 * "any" needs at least one. Both skip arguments whose names start with "x-"; the "all-with-x"
 * and "any-with-x" modes (RabbitMQ 3.10+) keep them. `x-match` itself is never an argument to
 * match. Consequences the conformance vectors confirm: "all" with nothing left to match matches
 * every message (vacuous truth), and "any" with nothing left to match matches none.
 *
 * An argument whose value is null (AMQP "void") matches on the header's presence alone, as in
 * RabbitMQ ("a 'no value' in a pattern field is supposed to mean simple presence").
 */
import type {
  CompileResult,
  ExchangeType,
  FieldTable,
  RoutableMessage,
  RoutingIndex,
} from "./exchange-type";

export const X_MATCH_MODES = ["all", "any", "all-with-x", "any-with-x"] as const;
export type XMatchMode = (typeof X_MATCH_MODES)[number];

export interface HeadersBinding {
  /** True for "any"/"any-with-x": one matching argument is enough. */
  readonly any: boolean;
  /** The arguments still to match after dropping x-match (and x-* unless "-with-x"). */
  readonly pattern: readonly (readonly [name: string, value: unknown])[];
}

const EXPECTED_VALUE = "expected all, any, all-with-x, or any-with-x";
const EXPECTED_TYPE = "expected longstr";

function isXMatchMode(value: string): value is XMatchMode {
  return (X_MATCH_MODES as readonly string[]).includes(value);
}

/** Describes a value's AMQP-ish type for the error message, like RabbitMQ's "field type". */
function typeName(value: unknown): string {
  if (value === null) return "void";
  if (Array.isArray(value)) return "array";
  return typeof value === "object" ? "table" : typeof value;
}

export function compileHeadersBinding(args: FieldTable): CompileResult<HeadersBinding> {
  let mode: XMatchMode = "all";
  if (Object.hasOwn(args, "x-match")) {
    const raw = args["x-match"];
    // Same wording as RabbitMQ's validate_binding/2 so clients see familiar errors.
    if (typeof raw !== "string") {
      const value = JSON.stringify(raw);
      return {
        ok: false,
        reason: `Invalid x-match field type ${typeName(raw)} (value ${value}); ${EXPECTED_TYPE}`,
      };
    }
    if (!isXMatchMode(raw)) {
      return {
        ok: false,
        reason: `Invalid x-match field value ${JSON.stringify(raw)}; ${EXPECTED_VALUE}`,
      };
    }
    mode = raw;
  }
  const withX = mode === "all-with-x" || mode === "any-with-x";
  const pattern: (readonly [string, unknown])[] = [];
  for (const [name, value] of Object.entries(args)) {
    if (name === "x-match") continue;
    if (!withX && name.startsWith("x-")) continue;
    pattern.push([name, value]);
  }
  return { ok: true, compiled: { any: mode === "any" || mode === "any-with-x", pattern } };
}

/**
 * Field-value equality: same type and same value, so 1 is not "1" and true is not "true".
 * Arrays compare element by element in order; tables compare by key set and value per key.
 */
export function fieldValuesEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false;
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
    return a.every((item, i) => fieldValuesEqual(item, b[i]));
  }
  const aTable = a as Record<string, unknown>;
  const bTable = b as Record<string, unknown>;
  const aKeys = Object.keys(aTable);
  if (aKeys.length !== Object.keys(bTable).length) return false;
  return aKeys.every(
    (key) => Object.hasOwn(bTable, key) && fieldValuesEqual(aTable[key], bTable[key]),
  );
}

function argumentMatches(headers: FieldTable, name: string, expected: unknown): boolean {
  // Own properties only: a header named "constructor" must not be found on Object.prototype.
  if (!Object.hasOwn(headers, name)) return false;
  return expected === null || fieldValuesEqual(expected, headers[name]);
}

export function headersMatch(binding: HeadersBinding, headers: FieldTable): boolean {
  if (binding.any) {
    return binding.pattern.some(([name, value]) => argumentMatches(headers, name, value));
  }
  return binding.pattern.every(([name, value]) => argumentMatches(headers, name, value));
}

class HeadersIndex implements RoutingIndex<HeadersBinding> {
  /** Headers routing is a scan: no key to index on, as in RabbitMQ, which tests every binding. */
  private readonly bindings = new Map<string, HeadersBinding>();

  get size(): number {
    return this.bindings.size;
  }

  add(id: string, compiled: HeadersBinding): void {
    this.bindings.set(id, compiled);
  }

  remove(id: string): void {
    this.bindings.delete(id);
  }

  match(message: RoutableMessage, out: Set<string>): void {
    const headers = message.headers ?? {};
    for (const [id, binding] of this.bindings) {
      if (headersMatch(binding, headers)) out.add(id);
    }
  }
}

export const headersExchange: ExchangeType<HeadersBinding> = {
  name: "headers",
  compile(_bindingKey, args) {
    return compileHeadersBinding(args);
  },
  createIndex() {
    return new HeadersIndex();
  },
};

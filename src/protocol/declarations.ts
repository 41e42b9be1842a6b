/**
 * Exchange and queue declarations: the HTTP bodies that declare them, the records the broker
 * keeps, and RabbitMQ's redeclaration equivalence rule (a redeclaration must match, else
 * `400 inequivalent arg ...`).
 */
import { z } from "zod";
import { type Failure, fail } from "../errors";
import type { ExchangeTypeName } from "../routing/exchange-type";
import { flag } from "./coerce";
import { fieldTableSchema } from "./field-table";
import { describe, type ObjectKind } from "./names";

/** RabbitMQ 3.10 declares a `direct` exchange when the body names no type. */
export const exchangeBodySchema = z.object({
  type: z.string().default("direct"),
  durable: flag.default(true),
  auto_delete: flag.default(false),
  internal: flag.default(false),
  arguments: fieldTableSchema.default({}),
});

export const queueBodySchema = z.object({
  durable: flag.default(true),
  auto_delete: flag.default(false),
  arguments: fieldTableSchema.default({}),
});

export interface ExchangeDeclaration {
  readonly name: string;
  readonly vhost: string;
  readonly type: ExchangeTypeName;
  readonly durable: boolean;
  readonly auto_delete: boolean;
  readonly internal: boolean;
  readonly arguments: Record<string, unknown>;
}

export interface QueueDeclaration {
  readonly name: string;
  readonly vhost: string;
  readonly durable: boolean;
  readonly auto_delete: boolean;
  readonly exclusive: boolean;
  readonly arguments: Record<string, unknown>;
}

/** The arguments RabbitMQ compares on redeclaration (others may differ silently). */
const EXCHANGE_EQUIVALENT_ARGS = ["alternate-exchange"];
const QUEUE_EQUIVALENT_ARGS = [
  "x-expires",
  "x-message-ttl",
  "x-max-length",
  "x-max-length-bytes",
  "x-max-priority",
  "x-overflow",
  "x-queue-mode",
  "x-queue-type",
  "x-dead-letter-exchange",
  "x-dead-letter-routing-key",
  "x-single-active-consumer",
  "x-delivery-limit",
];

function show(value: unknown): string {
  return value === undefined ? "none" : typeof value === "string" ? value : JSON.stringify(value);
}

function inequivalent(
  kind: ObjectKind,
  current: { name: string; vhost: string },
  arg: string,
  received: unknown,
  had: unknown,
): Failure {
  return fail(
    "bad_request",
    `inequivalent arg '${arg}' for ${describe(kind, current.name, current.vhost)}: received '${show(received)}' but current is '${show(had)}'`,
  );
}

function compareFields<T extends object>(
  kind: ObjectKind,
  current: T & { name: string; vhost: string },
  requested: T,
  fields: readonly (keyof T & string)[],
  argNames: readonly string[],
  argsOf: (x: T) => Record<string, unknown>,
): Failure | null {
  for (const field of fields) {
    if (requested[field] !== current[field]) {
      return inequivalent(kind, current, field, requested[field], current[field]);
    }
  }
  const want = argsOf(requested);
  const have = argsOf(current);
  for (const arg of argNames) {
    if (JSON.stringify(want[arg]) !== JSON.stringify(have[arg])) {
      return inequivalent(kind, current, arg, want[arg], have[arg]);
    }
  }
  return null;
}

export function exchangeEquivalence(
  current: ExchangeDeclaration,
  requested: ExchangeDeclaration,
): Failure | null {
  return compareFields(
    "exchange",
    current,
    requested,
    ["type", "durable", "auto_delete", "internal"],
    EXCHANGE_EQUIVALENT_ARGS,
    (x) => x.arguments,
  );
}

export function queueEquivalence(
  current: QueueDeclaration,
  requested: QueueDeclaration,
): Failure | null {
  return compareFields(
    "queue",
    current,
    requested,
    ["durable", "auto_delete", "exclusive"],
    QUEUE_EQUIVALENT_ARGS,
    (x) => x.arguments,
  );
}

/** Type checks RabbitMQ applies to well-known queue arguments at declaration. */
export function checkQueueArguments(args: Record<string, unknown>): Failure | null {
  const nonNegativeInts = [
    "x-message-ttl",
    "x-max-length",
    "x-max-length-bytes",
    "x-delivery-limit",
  ] as const;
  for (const name of nonNegativeInts) {
    const value = args[name];
    if (value !== undefined && !(Number.isInteger(value) && (value as number) >= 0)) {
      return fail("bad_request", `invalid arg '${name}': expected a non-negative integer`);
    }
  }
  const expires = args["x-expires"];
  if (expires !== undefined && !(Number.isInteger(expires) && (expires as number) > 0)) {
    return fail("bad_request", "invalid arg 'x-expires': expected a positive integer");
  }
  const priority = args["x-max-priority"];
  if (
    priority !== undefined &&
    !(Number.isInteger(priority) && (priority as number) >= 0 && (priority as number) <= 255)
  ) {
    return fail("bad_request", "invalid arg 'x-max-priority': expected an integer from 0 to 255");
  }
  for (const name of ["x-dead-letter-exchange", "x-dead-letter-routing-key", "x-overflow"]) {
    const value = args[name];
    if (value !== undefined && typeof value !== "string") {
      return fail("bad_request", `invalid arg '${name}': expected a string`);
    }
  }
  const single = args["x-single-active-consumer"];
  if (single !== undefined && typeof single !== "boolean") {
    return fail("bad_request", "invalid arg 'x-single-active-consumer': expected a boolean");
  }
  const queueType = args["x-queue-type"];
  if (queueType !== undefined && !["classic", "quorum", "stream"].includes(String(queueType))) {
    return fail(
      "bad_request",
      `invalid arg 'x-queue-type': unknown queue type '${show(queueType)}'`,
    );
  }
  return null;
}

export function checkExchangeArguments(args: Record<string, unknown>): Failure | null {
  const ae = args["alternate-exchange"];
  if (ae !== undefined && typeof ae !== "string") {
    return fail("bad_request", "invalid arg 'alternate-exchange': expected a string");
  }
  return null;
}

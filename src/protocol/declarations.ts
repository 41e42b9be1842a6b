/**
 * Exchange and queue declarations: the HTTP bodies that declare them, the records the broker
 * keeps, and RabbitMQ's redeclaration equivalence rule (a redeclaration must match, else
 * `400 inequivalent arg ...`).
 */
import { z } from "zod";
import { type Failure, fail } from "../errors";
import {
  DELAYED_MESSAGE_TYPE,
  DELAYED_TYPE_ARGUMENT,
  type DeclaredExchangeType,
  delayedTypeProblem,
} from "../routing/delayed";
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
  /** A routing type, or `x-delayed-message` routing by its `x-delayed-type` (routing/delayed.ts). */
  readonly type: DeclaredExchangeType;
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

/**
 * The arguments RabbitMQ compares on redeclaration (others may differ silently). The
 * delayed-message plugin lets `x-delayed-type` differ silently too; here it is compared, since a
 * redeclaration asking for other routing would otherwise be answered "done" without it.
 */
const EXCHANGE_EQUIVALENT_ARGS = ["alternate-exchange", DELAYED_TYPE_ARGUMENT];
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

/** The AMQP field type RabbitMQ names for a JSON value in its reasons ("long", "longstr"...). */
function amqpType(value: unknown): string {
  if (typeof value === "number") return Number.isInteger(value) ? "long" : "double";
  if (typeof value === "string") return "longstr";
  if (typeof value === "boolean") return "bool";
  if (Array.isArray(value)) return "array";
  return value === null ? "void" : "table";
}

const INTEGER_ARGS = [
  "x-message-ttl",
  "x-expires",
  "x-max-length",
  "x-max-length-bytes",
  "x-max-priority",
  "x-delivery-limit",
] as const;

export const OVERFLOW_MODES = ["drop-head", "reject-publish", "reject-publish-dlx"] as const;

/** RabbitMQ's complaint about one integer argument (Erlang terms as its reasons print them). */
function integerProblem(name: string, value: unknown): string | null {
  if (!Number.isInteger(value)) return `"expected integer, got ${amqpType(value)}"`;
  const n = value as number;
  if (n < 0) return `{value_negative,${n}}`;
  if (name === "x-expires" && n === 0) return "{value_zero,0}";
  if (name === "x-max-priority" && n > 255) return `{max_value_exceeded,${n}}`;
  return null;
}

/**
 * The checks RabbitMQ 3.10 applies to well-known queue arguments at declaration, with its
 * reasons word for word (compared against a real node: docs/queue-features.md).
 */
export function checkQueueArguments(
  args: Record<string, unknown>,
  queue: string,
  vhost: string,
): Failure | null {
  const where = `for queue '${queue}' in vhost '${vhost}'`;
  const invalid = (name: string, detail: string) =>
    fail("bad_request", `invalid arg '${name}' ${where}: ${detail}`);
  for (const name of INTEGER_ARGS) {
    const value = args[name];
    if (value === undefined) continue;
    const problem = integerProblem(name, value);
    if (problem) return invalid(name, problem);
  }
  const overflow = args["x-overflow"];
  if (overflow !== undefined) {
    if (typeof overflow !== "string") {
      return invalid("x-overflow", `{unacceptable_type,${amqpType(overflow)}}`);
    }
    if (!(OVERFLOW_MODES as readonly string[]).includes(overflow)) {
      return invalid("x-overflow", "invalid_overflow");
    }
  }
  const dlx = args["x-dead-letter-exchange"];
  if (dlx !== undefined && typeof dlx !== "string") {
    return fail(
      "bad_request",
      `invalid type '${amqpType(dlx)}' for arg 'x-dead-letter-exchange' in queue '${queue}' in vhost '${vhost}'`,
    );
  }
  const dlrk = args["x-dead-letter-routing-key"];
  if (dlrk !== undefined) {
    if (typeof dlrk !== "string") {
      return invalid("x-dead-letter-routing-key", `{unacceptable_type,${amqpType(dlrk)}}`);
    }
    if (dlx === undefined)
      return invalid("x-dead-letter-routing-key", "routing_key_but_no_dlx_defined");
  }
  const single = args["x-single-active-consumer"];
  if (single !== undefined && typeof single !== "boolean") {
    return invalid("x-single-active-consumer", `{unacceptable_type,${amqpType(single)}}`);
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

export function checkExchangeArguments(
  type: DeclaredExchangeType,
  args: Record<string, unknown>,
): Failure | null {
  const ae = args["alternate-exchange"];
  if (ae !== undefined && typeof ae !== "string") {
    return fail("bad_request", "invalid arg 'alternate-exchange': expected a string");
  }
  if (type === DELAYED_MESSAGE_TYPE) {
    const problem = delayedTypeProblem(args);
    if (problem !== null) return fail("bad_request", problem);
  }
  return null;
}

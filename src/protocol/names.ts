/**
 * Name rules for vhosts, exchanges and queues, as RabbitMQ applies them: a name is an AMQP
 * shortstr (at most 255 bytes of UTF-8), and the `amq.` prefix is reserved for the broker
 * (declaring such a name is `403 access_refused`, AMQP 0-9-1 spec, exchange.declare / queue.declare).
 */
import { LIMITS } from "../config";
import { type Failure, fail } from "../errors";

export type ObjectKind = "exchange" | "queue" | "vhost" | "user" | "inbox";

const encoder = new TextEncoder();

export function byteLength(text: string): number {
  return encoder.encode(text).byteLength;
}

/**
 * Whether `text` is longer than `limit` bytes of UTF-8. A UTF-16 unit is at most three bytes, so
 * a short text needs no encoding: names and routing keys are checked on every publish, and the
 * encoded copy would be garbage each time.
 */
export function longerThanBytes(text: string, limit: number): boolean {
  return text.length * 3 > limit && byteLength(text) > limit;
}

/** The default exchange is `""`; the management API writes it `amq.default` in paths. */
export const DEFAULT_EXCHANGE = "";
export const DEFAULT_EXCHANGE_PATH_NAME = "amq.default";

export function exchangeNameFromPath(segment: string): string {
  return segment === DEFAULT_EXCHANGE_PATH_NAME ? DEFAULT_EXCHANGE : segment;
}

export function isReservedName(name: string): boolean {
  return name.startsWith("amq.");
}

/** Checks a name's shape; reserved-prefix rules are the caller's (they depend on the operation). */
export function checkName(kind: ObjectKind, name: string): Failure | null {
  if (name.length === 0) {
    return fail("bad_request", `${kind} name must not be empty`);
  }
  if (longerThanBytes(name, LIMITS.maxNameBytes)) {
    return fail("bad_request", `${kind} name is longer than ${LIMITS.maxNameBytes} bytes`);
  }
  // SQLite would store a lone surrogate as U+FFFD: the name would change across a restart.
  if (!name.isWellFormed()) {
    return fail("bad_request", `${kind} name is not well-formed Unicode`);
  }
  // Control characters cannot be typed into paths safely and RabbitMQ tools cannot show them.
  // biome-ignore lint/suspicious/noControlCharactersInRegex: that is the point of the check
  if (/[\u0000-\u001f\u007f]/.test(name)) {
    return fail("bad_request", `${kind} name must not contain control characters`);
  }
  return null;
}

export function checkRoutingKey(key: string): Failure | null {
  if (longerThanBytes(key, LIMITS.maxRoutingKeyBytes)) {
    return fail("bad_request", `routing key is longer than ${LIMITS.maxRoutingKeyBytes} bytes`);
  }
  if (!key.isWellFormed()) {
    return fail("bad_request", "routing key is not well-formed Unicode");
  }
  return null;
}

/** How RabbitMQ names an object in error reasons: "exchange 'orders' in vhost '/'". */
export function describe(kind: ObjectKind, name: string, vhost: string): string {
  return `${kind} '${name}' in vhost '${vhost}'`;
}

/** The vhost every broker starts with, as in RabbitMQ. */
export const DEFAULT_VHOST = "/";

/**
 * Dead-lettering as RabbitMQ 3.10 does it (rabbit_dead_letter): the copy a queue publishes to its
 * dead-letter exchange, with the `x-death` header (one entry per queue and reason, most recent
 * first, its `count` grown when the same queue dead-letters it again for the same reason), the
 * `x-first-death-*` headers, and the cycle rule that stops a message going round for ever.
 */
import type { PublishedMessage } from "./message";

export const DEAD_LETTER_REASONS = ["rejected", "expired", "maxlen", "delivery_limit"] as const;
export type DeadLetterReason = (typeof DEAD_LETTER_REASONS)[number];

export interface DeadLetterTarget {
  readonly exchange: string;
  /** x-dead-letter-routing-key; undefined keeps the message's own routing key. */
  readonly routingKey: string | undefined;
}

type XDeathEntry = Record<string, unknown> & { queue?: unknown; reason?: unknown; count?: unknown };

function entriesOf(headers: Record<string, unknown> | undefined): XDeathEntry[] {
  const list = headers?.["x-death"];
  if (!Array.isArray(list)) return [];
  return list.filter(
    (entry): entry is XDeathEntry =>
      typeof entry === "object" && entry !== null && !Array.isArray(entry),
  );
}

/** The routing keys RabbitMQ records: the routing key, then the CC and BCC headers' keys. */
function routingKeys(message: PublishedMessage): string[] {
  const keys = [message.routingKey];
  for (const name of ["CC", "BCC"]) {
    const extra = message.properties.headers?.[name];
    if (Array.isArray(extra)) for (const k of extra) if (typeof k === "string") keys.push(k);
  }
  return keys;
}

/**
 * The message `queue` sends to its dead-letter exchange for `reason` at `now` (milliseconds):
 * `time` is in seconds, as an AMQP timestamp; the `expiration` property moves into the entry as
 * `original-expiration` (so the copy does not expire again for the same reason).
 */
export function deadLettered(
  message: PublishedMessage,
  queue: string,
  reason: DeadLetterReason,
  target: DeadLetterTarget,
  now: number,
): PublishedMessage {
  const { expiration, ...properties } = message.properties;
  const headers: Record<string, unknown> = { ...(properties.headers ?? {}) };
  const entries = entriesOf(headers);
  const index = entries.findIndex((e) => e.queue === queue && e.reason === reason);
  let entry: XDeathEntry;
  if (index >= 0) {
    const found = entries[index] as XDeathEntry;
    entries.splice(index, 1);
    entry = { ...found, count: (typeof found.count === "number" ? found.count : 0) + 1 };
  } else {
    entry = {
      count: 1,
      reason,
      queue,
      time: Math.floor(now / 1000),
      exchange: message.exchange,
      "routing-keys": routingKeys(message),
      ...(expiration === undefined ? {} : { "original-expiration": expiration }),
    };
  }
  headers["x-death"] = [entry, ...entries];
  if (headers["x-first-death-reason"] === undefined) {
    headers["x-first-death-reason"] = reason;
    headers["x-first-death-queue"] = queue;
    headers["x-first-death-exchange"] = message.exchange;
  }
  return {
    exchange: target.exchange,
    routingKey: target.routingKey ?? message.routingKey,
    properties: { ...properties, headers },
    body: message.body,
    deadLettered: true,
  };
}

/**
 * RabbitMQ's cycle rule: a dead-lettered message routed to a queue it already died in is dropped
 * there, unless a client rejected it somewhere along that cycle (entries from the most recent to
 * that queue's own).
 */
export function isDeadLetterCycle(message: PublishedMessage, queue: string): boolean {
  if (message.deadLettered !== true) return false;
  const entries = entriesOf(message.properties.headers);
  const at = entries.findIndex((e) => e.queue === queue);
  if (at < 0) return false;
  return !entries.slice(0, at + 1).some((e) => e.reason === "rejected");
}

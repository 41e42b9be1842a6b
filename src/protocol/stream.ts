/**
 * Streams on the wire and on disk: offset specifications (RabbitMQ's `x-stream-offset`:
 * first, last, next, an offset, a timestamp), retention arguments (`x-max-age` as RabbitMQ
 * writes it: a number and one of Y M D h m s), and the chunk codec that stores one produce batch
 * as one row.
 */
import { z } from "zod";
import { type Failure, fail } from "../errors";
import type { PublishedMessage } from "./message";
import type { BasicProperties } from "./properties";

/** Where a reader starts: the wire form accepted by fetch, WebSocket subscribe and resets. */
export const offsetSpecSchema = z.union([
  z.enum(["first", "last", "next"]),
  z.number().int().nonnegative(),
  z.object({ timestamp: z.number().int().nonnegative() }),
]);

export type OffsetSpec = z.infer<typeof offsetSpecSchema>;

/** A message as a stream hands it out: its dense offset and the broker's arrival time (ms). */
export interface StreamMessage extends PublishedMessage {
  readonly offset: number;
  readonly timestamp: number;
}

const AGE_UNITS: Record<string, number> = {
  Y: 365 * 24 * 3600_000,
  M: 30 * 24 * 3600_000,
  D: 24 * 3600_000,
  h: 3600_000,
  m: 60_000,
  s: 1000,
};

/** `x-max-age`: RabbitMQ's format, e.g. `7D`, `1h`, `30s` (units Y, M, D, h, m, s). */
export function parseMaxAge(value: unknown): number | Failure {
  const match = typeof value === "string" ? /^(\d{1,9})([YMDhms])$/.exec(value) : null;
  if (!match) {
    return fail(
      "bad_request",
      "invalid arg 'x-max-age': expected a number and a unit Y, M, D, h, m or s (e.g. '7D')",
    );
  }
  return Number(match[1]) * (AGE_UNITS[match[2] as string] as number);
}

export interface Retention {
  readonly maxAgeMs: number | null;
  readonly maxBytes: number | null;
}

export function isStreamDeclaration(args: Record<string, unknown>): boolean {
  return args["x-queue-type"] === "stream";
}

/** The stream-only checks on a queue declaration; classic arguments are checked elsewhere. */
export function checkStreamArguments(args: Record<string, unknown>): Failure | null {
  if (args["x-max-age"] !== undefined) {
    const age = parseMaxAge(args["x-max-age"]);
    if (typeof age !== "number") return age;
  }
  for (const unsupported of ["x-message-ttl", "x-max-length", "x-dead-letter-exchange"]) {
    if (args[unsupported] !== undefined) {
      // RabbitMQ refuses these on streams the same way (they describe destructive reads).
      return fail("bad_request", `invalid arg '${unsupported}': not supported by stream queues`);
    }
  }
  return null;
}

export function retentionOf(args: Record<string, unknown>): Retention {
  const age = args["x-max-age"] === undefined ? null : parseMaxAge(args["x-max-age"]);
  const bytes = args["x-max-length-bytes"];
  return {
    maxAgeMs: typeof age === "number" ? age : null,
    maxBytes: typeof bytes === "number" ? bytes : null,
  };
}

interface Head {
  readonly e: string;
  readonly k: string;
  readonly p: BasicProperties;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * One chunk's messages as bytes: per message a u32 length and the JSON of its envelope, then a
 * u32 length and the body. Binary bodies stay binary (no base64 on disk).
 */
export function encodeChunk(messages: readonly PublishedMessage[]): Uint8Array {
  const heads = messages.map((m) =>
    encoder.encode(JSON.stringify({ e: m.exchange, k: m.routingKey, p: m.properties })),
  );
  let size = 0;
  messages.forEach((m, i) => {
    size += 8 + (heads[i] as Uint8Array).byteLength + m.body.byteLength;
  });
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  let at = 0;
  messages.forEach((m, i) => {
    const head = heads[i] as Uint8Array;
    view.setUint32(at, head.byteLength);
    out.set(head, at + 4);
    at += 4 + head.byteLength;
    view.setUint32(at, m.body.byteLength);
    out.set(m.body, at + 4);
    at += 4 + m.body.byteLength;
  });
  return out;
}

export function decodeChunk(
  data: Uint8Array,
  base: number,
  timestamp: number,
  from: number,
  limit: number,
): StreamMessage[] {
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength);
  const out: StreamMessage[] = [];
  let at = 0;
  for (let offset = base; at < data.byteLength && out.length < limit; offset++) {
    const headLength = view.getUint32(at);
    const headStart = at + 4;
    at = headStart + headLength;
    const bodyLength = view.getUint32(at);
    const bodyStart = at + 4;
    at = bodyStart + bodyLength;
    if (offset < from) continue;
    const head = JSON.parse(
      decoder.decode(data.subarray(headStart, headStart + headLength)),
    ) as Head;
    out.push({
      offset,
      timestamp,
      exchange: head.e,
      routingKey: head.k,
      properties: head.p,
      body: data.slice(bodyStart, bodyStart + bodyLength),
    });
  }
  return out;
}

/** Bytes a message takes in a chunk (its envelope and body), for splitting batches. */
export function encodedSize(message: PublishedMessage): number {
  return 8 + 256 + message.body.byteLength + JSON.stringify(message.properties).length;
}

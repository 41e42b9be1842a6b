/**
 * The publish path's fast reader: publish frames and publish bodies of the plain, common shape
 * read without zod. zod pays about 4 KB of short-lived heap and 2-3 µs per message for its parse
 * context and copies (bench/publish-parse-alloc.mjs); this reads the same frame in about 1 µs with
 * what JSON.parse left. (The isolate's full collections, the latency tail, come at the same rate
 * with or without that garbage: bench/latency-floor.mjs.)
 *
 * The schemas stay the authority. Every function here answers only for input the schema
 * certainly accepts, with what the schema would answer, and null (or false) for everything else;
 * it never produces an error, so every error code and reason is still the schema's. The same
 * pattern as `plainAck` (frames.ts); test/protocol/publish-fast-read.test.ts checks the agreement.
 *
 * Imports end in `.ts`: frames.ts imports this file, and the typed client type-checks frames.ts
 * under Node's module resolution (see frame-parse.ts).
 */
import { LIMITS } from "../config.ts";
import type { PublishEntry } from "./frames.ts";
import type { PublishBody } from "./publish-body.ts";

type JsonObject = { [key: string]: unknown };

/** Longer than any JSON number: a sign, "0.00000" and 17 significant digits make 25. */
const NUMBER_JSON_BOUND = 32;

function isObject(value: unknown): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** An entry's envelope as publishFrameSchema checks it: seq a positive safe integer, exchange a string. */
function isPlainEnvelope(value: unknown): value is PublishEntry {
  if (!isObject(value)) return false;
  const { seq, exchange } = value;
  return Number.isSafeInteger(seq) && (seq as number) > 0 && typeof exchange === "string";
}

/**
 * A single-message publish frame (`{"type":"publish","seq":1,...}`) as its one entry: the frame
 * without `type`, every other key kept, as publishFrameSchema (a loose object) keeps them.
 */
export function plainPublishSingle(value: unknown): PublishEntry[] | null {
  if (!isPlainEnvelope(value) || value.type !== "publish") return null;
  const { type: _type, ...entry } = value;
  return [entry as PublishEntry];
}

/**
 * A list publish frame's entries (`{"type":"publish","messages":[...]}`): the parsed array itself,
 * which publishListFrameSchema would copy entry by entry, key for key.
 */
export function plainPublishList(value: unknown): PublishEntry[] | null {
  if (!isObject(value) || value.type !== "publish") return null;
  const { messages } = value;
  if (!Array.isArray(messages)) return null;
  if (messages.length < 1 || messages.length > LIMITS.maxBatchMessages) return null;
  for (const entry of messages) if (!isPlainEnvelope(entry)) return null;
  return messages as PublishEntry[];
}

/**
 * A publish body (all four keys, as publishBodySchema wants them) that passes the schema and
 * whose properties are certainly within LIMITS.maxPropertiesBytes as JSON, so the caller needs
 * neither the schema nor the `JSON.stringify` of the size check. Unknown top-level keys are
 * allowed: the schema (a non-strict object) drops them, and the caller reads only these four.
 */
export function isPlainPublishBody(value: unknown): value is PublishBody {
  if (!isObject(value)) return false;
  const { routing_key, payload, payload_encoding, properties } = value;
  return (
    typeof routing_key === "string" &&
    typeof payload === "string" &&
    (payload_encoding === "string" || payload_encoding === "base64") &&
    propertiesJsonBound(properties) <= LIMITS.maxPropertiesBytes
  );
}

/**
 * An upper bound of `JSON.stringify(properties).length` when every key is one of
 * basicPropertiesSchema's with a value it accepts (headers only as a flat table of scalars);
 * Infinity for anything else, which the schema then decides. `{}`, and per key its quoted name,
 * a colon, the value and a comma.
 */
export function propertiesJsonBound(value: unknown): number {
  if (!isObject(value)) return Number.POSITIVE_INFINITY;
  let bound = 2;
  // for-in rather than Object.keys: no array per message. A parsed JSON object has only own keys.
  for (const key in value) {
    if (!Object.hasOwn(value, key)) return Number.POSITIVE_INFINITY;
    const item = value[key];
    bound += key.length + 4 + propertyJsonBound(key, item);
  }
  return bound;
}

function propertyJsonBound(key: string, item: unknown): number {
  switch (key) {
    case "content_type":
    case "content_encoding":
    case "correlation_id":
    case "reply_to":
    case "message_id":
    case "type":
    case "user_id":
    case "app_id":
    case "cluster_id":
      return typeof item === "string" ? stringJsonBound(item) : Number.POSITIVE_INFINITY;
    case "expiration":
      // The schema's /^\d+$/: ASCII digits, at least one; they need no escaping.
      return typeof item === "string" && isDigits(item)
        ? item.length + 2
        : Number.POSITIVE_INFINITY;
    case "delivery_mode":
      return item === 1 || item === 2 ? 1 : Number.POSITIVE_INFINITY;
    case "priority":
      return Number.isInteger(item) && (item as number) >= 0 && (item as number) <= 255
        ? NUMBER_JSON_BOUND
        : Number.POSITIVE_INFINITY;
    case "timestamp":
      return Number.isSafeInteger(item) && (item as number) >= 0
        ? NUMBER_JSON_BOUND
        : Number.POSITIVE_INFINITY;
    case "headers":
      return flatTableJsonBound(item);
    default:
      return Number.POSITIVE_INFINITY;
  }
}

/**
 * Headers whose values are all strings, numbers, booleans or null: a field table of depth one,
 * which fieldTableSchema (any record, nested up to LIMITS.maxTableDepth) always accepts. A nested
 * value is left to the schema and its depth check.
 */
function flatTableJsonBound(value: unknown): number {
  if (!isObject(value)) return Number.POSITIVE_INFINITY;
  let bound = 2;
  for (const key in value) {
    if (!Object.hasOwn(value, key)) return Number.POSITIVE_INFINITY;
    const item = value[key];
    let itemBound: number;
    if (typeof item === "string") itemBound = stringJsonBound(item);
    else if (typeof item === "number") itemBound = NUMBER_JSON_BOUND;
    else if (typeof item === "boolean" || item === null) itemBound = 5;
    else return Number.POSITIVE_INFINITY;
    bound += stringJsonBound(key) + 2 + itemBound;
  }
  return bound;
}

/** A string's JSON is at most six characters per UTF-16 unit (`\u001f`) and two quotes. */
function stringJsonBound(text: string): number {
  return text.length * 6 + 2;
}

function isDigits(text: string): boolean {
  if (text.length === 0) return false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 48 || c > 57) return false;
  }
  return true;
}

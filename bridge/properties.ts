/**
 * Basic properties between AMQP (amqplib's camelCase field names) and the broker's JSON (the
 * management API's snake_case names), and header tables between AMQP field tables and JSON.
 *
 * Field-table values JSON cannot hold keep their AMQP type in amqplib's own `{"!": type,
 * "value": v}` form: timestamps and decimals as amqplib decodes them, byte arrays as
 * `{"!": "bytes", "value": base64}`. They come back to AMQP clients with the same type.
 * Integers come back as the narrowest signed type that holds them (RabbitMQ keeps the exact
 * width; most clients read any integer type the same way).
 */
import type { MessageProperties } from "../client/index.ts";
import type { Fields } from "./codec.ts";

const NAMES = [
  ["contentType", "content_type"],
  ["contentEncoding", "content_encoding"],
  ["correlationId", "correlation_id"],
  ["replyTo", "reply_to"],
  ["expiration", "expiration"],
  ["messageId", "message_id"],
  ["type", "type"],
  ["userId", "user_id"],
  ["appId", "app_id"],
  ["clusterId", "cluster_id"],
] as const;

const BYTES = "bytes";
const AMQP_TYPED = new Set(["timestamp", "decimal"]);

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return (
    typeof value === "object" && value !== null && !Array.isArray(value) && !Buffer.isBuffer(value)
  );
}

function valueToJson(value: unknown): unknown {
  if (Buffer.isBuffer(value)) return { "!": BYTES, value: value.toString("base64") };
  if (Array.isArray(value)) return value.map(valueToJson);
  if (isPlainObject(value)) {
    if ("!" in value) return value; // amqplib's typed value (timestamp, decimal)
    return tableToJson(value);
  }
  if (typeof value === "bigint") return Number(value);
  return value;
}

export function tableToJson(table: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(table)) out[key] = valueToJson(value);
  return out;
}

function valueFromJson(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(valueFromJson);
  if (isPlainObject(value)) {
    const tag = value["!"];
    if (tag === BYTES && typeof value.value === "string") return Buffer.from(value.value, "base64");
    if (typeof tag === "string" && AMQP_TYPED.has(tag)) return value;
    if ("!" in value) return JSON.stringify(value); // a `!` key amqplib cannot encode: as text
    return tableFromJson(value);
  }
  return value;
}

export function tableFromJson(table: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(table)) out[key] = valueFromJson(value);
  return out;
}

/** AMQP properties (as decoded from a content header) as the broker's message properties. */
export function toBrokerProperties(fields: Fields): MessageProperties {
  const out: Record<string, unknown> = {};
  for (const [amqp, json] of NAMES) {
    const value = fields[amqp];
    if (typeof value === "string") out[json] = value;
  }
  if (isPlainObject(fields.headers)) out.headers = tableToJson(fields.headers);
  // The broker stores 1 (transient) or 2 (persistent); RabbitMQ treats any value but 2 as
  // transient, so other values are dropped rather than refused.
  if (fields.deliveryMode === 1 || fields.deliveryMode === 2)
    out.delivery_mode = fields.deliveryMode;
  if (typeof fields.priority === "number") out.priority = fields.priority;
  if (typeof fields.timestamp === "number") out.timestamp = fields.timestamp;
  return out as MessageProperties;
}

/** The broker's message properties as AMQP properties for a content header. */
export function fromBrokerProperties(properties: Record<string, unknown>): Fields {
  const out: Fields = {};
  for (const [amqp, json] of NAMES) {
    const value = properties[json];
    if (typeof value === "string") out[amqp] = value;
  }
  if (isPlainObject(properties.headers)) out.headers = tableFromJson(properties.headers);
  for (const [amqp, json] of [
    ["deliveryMode", "delivery_mode"],
    ["priority", "priority"],
    ["timestamp", "timestamp"],
  ] as const) {
    const value = properties[json];
    if (typeof value === "number") out[amqp] = value;
  }
  return out;
}

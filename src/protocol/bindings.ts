/**
 * Bindings as the management API shows them, and their `properties_key`: the routing key
 * quoted the way RabbitMQ's rabbit_mgmt_format:pack_binding_props does (mochiweb quote_plus),
 * followed by `~` and a digest of the arguments when there are any. RabbitMQ digests the
 * Erlang term of the arguments; we digest their canonical JSON, so keys with arguments differ
 * from RabbitMQ's byte for byte but are just as stable.
 */
import { z } from "zod";
import { fieldTableSchema } from "./field-table";

/** "inbox" is this broker's extension: a user's notification inbox (docs/notifications.md). */
export type DestinationType = "queue" | "exchange" | "inbox";

export function toDestinationType(text: string): DestinationType {
  return text === "exchange" || text === "inbox" ? text : "queue";
}

export interface Binding {
  readonly source: string;
  readonly vhost: string;
  readonly destination: string;
  readonly destination_type: DestinationType;
  readonly routing_key: string;
  readonly arguments: Record<string, unknown>;
  readonly properties_key: string;
}

export const bindingBodySchema = z.object({
  routing_key: z.string().default(""),
  arguments: fieldTableSchema.default({}),
});

/**
 * RabbitMQ's quote_binding: mochiweb's quote_plus (unreserved characters stay, space becomes
 * "+", the rest %XX), then "~" as "%7E", so that "~" only ever separates the key from the
 * arguments digest and no routing key can spell another binding's properties_key.
 */
export function quotePlus(text: string): string {
  let out = "";
  for (const byte of new TextEncoder().encode(text)) {
    const ch = String.fromCharCode(byte);
    if (/[A-Za-z0-9\-_.~]/.test(ch)) {
      out += ch;
    } else if (byte === 0x20) {
      out += "+";
    } else {
      out += `%${byte.toString(16).toUpperCase().padStart(2, "0")}`;
    }
  }
  return out.replaceAll("~", "%7E");
}

/** quotePlus undone: "+" is a space, %XX a byte; text that is not valid quoting stays as it is. */
export function unquotePlus(text: string): string {
  try {
    return decodeURIComponent(text.replaceAll("+", " "));
  } catch {
    return text;
  }
}

/** JSON with object keys sorted, so equal argument tables always digest the same. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) {
    return `[${value.map(canonicalJson).join(",")}]`;
  }
  if (value !== null && typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) =>
      a < b ? -1 : a > b ? 1 : 0,
    );
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(",")}}`;
  }
  return JSON.stringify(value) ?? "null";
}

export async function propertiesKey(
  routingKey: string,
  args: Record<string, unknown>,
): Promise<string> {
  if (Object.keys(args).length === 0) {
    return routingKey === "" ? "~" : quotePlus(routingKey);
  }
  const digest = await crypto.subtle.digest(
    "SHA-256",
    new TextEncoder().encode(canonicalJson(args)),
  );
  const hash = btoa(String.fromCharCode(...new Uint8Array(digest).subarray(0, 16)))
    .replace(/\+/g, "-")
    .replace(/\//g, "_")
    .replace(/=+$/, "");
  return `${quotePlus(routingKey)}~${hash}`;
}

/** A binding to create or delete, as the vhost catalog receives it. */
export interface BindRequest {
  readonly source: string;
  readonly destinationType: DestinationType;
  readonly destination: string;
  readonly routingKey: string;
  readonly arguments: Record<string, unknown>;
}

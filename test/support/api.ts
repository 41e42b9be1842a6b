/**
 * A small client for the broker's HTTP API inside the Workers test runtime: requests go to the
 * Worker's default export, authenticated as the test administrator unless told otherwise.
 */
import { exports } from "cloudflare:workers";

export const BASE = "http://broker.test";
export const GUEST = `Basic ${btoa("guest:guest")}`;

export interface CallOptions {
  readonly body?: unknown;
  /** A raw body sent as is (for malformed JSON tests). */
  readonly raw?: string;
  readonly auth?: string | null;
  readonly headers?: Record<string, string>;
}

export async function call(
  method: string,
  path: string,
  options: CallOptions = {},
): Promise<Response> {
  const headers: Record<string, string> = { ...options.headers };
  const auth = options.auth === undefined ? GUEST : options.auth;
  if (auth !== null) headers.Authorization = auth;
  let body: string | undefined;
  if (options.raw !== undefined) {
    body = options.raw;
    headers["Content-Type"] ??= "application/json";
  } else if (options.body !== undefined) {
    body = JSON.stringify(options.body);
    headers["Content-Type"] = "application/json";
  }
  return exports.default.fetch(new Request(`${BASE}${path}`, { method, headers, body }));
}

export async function json<T = unknown>(response: Response): Promise<T> {
  return (await response.json()) as T;
}

/** Encodes a vhost or object name as a path segment (`/` becomes `%2F`). */
export const seg = (name: string): string => encodeURIComponent(name);

export async function declareExchange(
  name: string,
  type: string,
  extra: Record<string, unknown> = {},
  vhost = "/",
): Promise<Response> {
  return call("PUT", `/api/exchanges/${seg(vhost)}/${seg(name)}`, { body: { type, ...extra } });
}

export async function declareQueue(
  name: string,
  extra: Record<string, unknown> = {},
  vhost = "/",
): Promise<Response> {
  return call("PUT", `/api/queues/${seg(vhost)}/${seg(name)}`, {
    body: { durable: true, ...extra },
  });
}

export async function bindQueue(
  exchange: string,
  queue: string,
  routingKey = "",
  args: Record<string, unknown> = {},
  vhost = "/",
): Promise<Response> {
  return call("POST", `/api/bindings/${seg(vhost)}/e/${seg(exchange)}/q/${seg(queue)}`, {
    body: { routing_key: routingKey, arguments: args },
  });
}

export async function bindExchange(
  source: string,
  destination: string,
  routingKey = "",
  args: Record<string, unknown> = {},
  vhost = "/",
): Promise<Response> {
  return call("POST", `/api/bindings/${seg(vhost)}/e/${seg(source)}/e/${seg(destination)}`, {
    body: { routing_key: routingKey, arguments: args },
  });
}

export interface PublishOptions {
  readonly properties?: Record<string, unknown>;
  readonly encoding?: "string" | "base64";
  readonly vhost?: string;
}

export async function publish(
  exchange: string,
  routingKey: string,
  payload: string,
  options: PublishOptions = {},
): Promise<Response> {
  const path = `/api/exchanges/${seg(options.vhost ?? "/")}/${seg(exchange || "amq.default")}/publish`;
  return call("POST", path, {
    body: {
      properties: options.properties ?? {},
      routing_key: routingKey,
      payload,
      payload_encoding: options.encoding ?? "string",
    },
  });
}

/** Publishes and returns the `routed` verdict, failing the test on a non-200. */
export async function routed(
  exchange: string,
  routingKey: string,
  payload = "m",
  options: PublishOptions = {},
): Promise<boolean> {
  const response = await publish(exchange, routingKey, payload, options);
  if (response.status !== 200) {
    throw new Error(`publish answered ${response.status}: ${await response.text()}`);
  }
  return (await json<{ routed: boolean }>(response)).routed;
}

export interface GotMessage {
  payload: string;
  payload_encoding: string;
  payload_bytes: number;
  redelivered: boolean;
  exchange: string;
  routing_key: string;
  message_count: number;
  properties: Record<string, unknown>;
}

export async function getMessages(
  queue: string,
  count = 100,
  ackmode = "ack_requeue_false",
  encoding = "auto",
  vhost = "/",
): Promise<GotMessage[]> {
  const response = await call("POST", `/api/queues/${seg(vhost)}/${seg(queue)}/get`, {
    body: { count, ackmode, encoding },
  });
  if (response.status !== 200) {
    throw new Error(`get answered ${response.status}: ${await response.text()}`);
  }
  return json<GotMessage[]>(response);
}

/** Payloads currently in a queue, taken out (ack_requeue_false). */
export async function drain(queue: string, vhost = "/"): Promise<string[]> {
  return (await getMessages(queue, 1000, "ack_requeue_false", "auto", vhost)).map((m) => m.payload);
}

export async function expectError(
  response: Response,
  status: number,
  error?: string,
): Promise<{ error: string; reason: string }> {
  const text = await response.text();
  if (response.status !== status) {
    throw new Error(`expected ${status}, got ${response.status}: ${text}`);
  }
  const body = JSON.parse(text) as { error: string; reason: string };
  if (typeof body.error !== "string" || typeof body.reason !== "string") {
    throw new Error(`not an error body: ${text}`);
  }
  if (error !== undefined && body.error !== error) {
    throw new Error(`expected error ${error}, got ${body.error}: ${text}`);
  }
  return body;
}

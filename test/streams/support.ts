/** Helpers for stream and topic tests: each test names its own streams, topics and groups. */
import { call, json, seg } from "../support/api";

export interface FetchedMessage {
  offset: number;
  timestamp: number;
  routing_key: string;
  payload: string;
  properties: Record<string, unknown>;
}

export interface FetchAnswer {
  messages: FetchedMessage[];
  next_offset: number;
  first_offset: number;
  last_offset: number;
}

export async function declareStream(
  name: string,
  args: Record<string, unknown> = {},
  vhost = "/",
): Promise<void> {
  const response = await call("PUT", `/api/queues/${seg(vhost)}/${seg(name)}`, {
    body: { durable: true, arguments: { "x-queue-type": "stream", ...args } },
  });
  if (response.status !== 201) {
    throw new Error(`declare stream ${name}: ${response.status} ${await response.text()}`);
  }
}

/** Publishes a batch through the default exchange straight into the stream (one chunk). */
export async function appendBatch(stream: string, payloads: string[], vhost = "/"): Promise<void> {
  const response = await call("POST", `/api/exchanges/${seg(vhost)}/amq.default/publish-batch`, {
    body: {
      messages: payloads.map((payload) => ({
        properties: {},
        routing_key: stream,
        payload,
        payload_encoding: "string",
      })),
    },
  });
  const body = await json<{ results: { routed: boolean }[] }>(response);
  if (!body.results.every((r) => r.routed)) throw new Error(`not routed: ${JSON.stringify(body)}`);
}

export function fetchStream(
  stream: string,
  body: Record<string, unknown>,
  options: { vhost?: string; auth?: string } = {},
): Promise<Response> {
  return call("POST", `/api/streams/${seg(options.vhost ?? "/")}/${seg(stream)}/fetch`, {
    body,
    ...(options.auth ? { auth: options.auth } : {}),
  });
}

export async function fetchOk(stream: string, body: Record<string, unknown>): Promise<FetchAnswer> {
  const response = await fetchStream(stream, body);
  if (response.status !== 200) {
    throw new Error(`fetch ${stream}: ${response.status} ${await response.text()}`);
  }
  return json<FetchAnswer>(response);
}

export const payloads = (answer: FetchAnswer): string[] => answer.messages.map((m) => m.payload);

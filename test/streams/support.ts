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

export interface Produced {
  results: { partition: number; offset: number }[];
  duplicate: boolean;
}

export async function declareTopic(
  name: string,
  partitions: number,
  args: Record<string, unknown> = {},
) {
  const response = await call("PUT", `/api/topics/%2F/${name}`, {
    body: { partitions, arguments: args },
  });
  if (response.status !== 201)
    throw new Error(`declare topic ${name}: ${response.status} ${await response.text()}`);
}

export async function produce(
  topic: string,
  body: Record<string, unknown>,
  auth?: string,
): Promise<Response> {
  return call("POST", `/api/topics/%2F/${topic}/produce`, { body, ...(auth ? { auth } : {}) });
}

export async function produceOk(topic: string, body: Record<string, unknown>): Promise<Produced> {
  const response = await produce(topic, body);
  if (response.status !== 200)
    throw new Error(`produce: ${response.status} ${await response.text()}`);
  return json<Produced>(response);
}

export async function fetchPartition(
  topic: string,
  partition: number,
  body: Record<string, unknown>,
) {
  const response = await call("POST", `/api/topics/%2F/${topic}/partitions/${partition}/fetch`, {
    body,
  });
  if (response.status !== 200)
    throw new Error(`fetch: ${response.status} ${await response.text()}`);
  return json<{
    messages: { offset: number; key: string; payload: string }[];
    next_offset: number;
  }>(response);
}

export interface Assigned {
  topic: string;
  partition: number;
  committed_offset: number | null;
  position: number;
}

export interface HeartbeatAnswer {
  member_id: string;
  member_epoch: number;
  heartbeat_interval_ms: number;
  assignment: Assigned[];
}

export function heartbeat(
  group: string,
  body: Record<string, unknown>,
  auth?: string,
): Promise<Response> {
  return call("POST", `/api/groups/%2F/${group}/heartbeat`, { body, ...(auth ? { auth } : {}) });
}

export async function heartbeatOk(
  group: string,
  body: Record<string, unknown>,
): Promise<HeartbeatAnswer> {
  const response = await heartbeat(group, body);
  if (response.status !== 200) {
    throw new Error(`heartbeat: ${response.status} ${await response.text()}`);
  }
  return json<HeartbeatAnswer>(response);
}

/** A group member as a Kafka client runs it: joins, then heartbeats with its last epoch. */
export class Member {
  id: string | undefined;
  epoch = 0;
  assignment: Assigned[] = [];

  constructor(
    readonly group: string,
    readonly topics: string[],
    readonly options: Record<string, unknown> = {},
  ) {}

  async beat(): Promise<Assigned[]> {
    const answer = await heartbeatOk(this.group, {
      ...this.options,
      ...(this.id ? { member_id: this.id } : {}),
      member_epoch: this.epoch,
      ...(this.epoch === 0 ? { topics: this.topics } : {}),
    });
    this.id = answer.member_id;
    this.epoch = answer.member_epoch;
    this.assignment = answer.assignment;
    return answer.assignment;
  }

  async leave(): Promise<void> {
    await heartbeatOk(this.group, { member_id: this.id, member_epoch: -1 });
    this.assignment = [];
  }

  partitions(): number[] {
    return this.assignment.map((a) => a.partition).sort((a, b) => a - b);
  }
}

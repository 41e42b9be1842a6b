/**
 * Partitioned topics (Kafka topics, RabbitMQ super streams): `PUT/GET/DELETE
 * /api/topics/{vhost}/{topic}` declares N partitions (stream queues `{topic}-{n}`) and shows
 * their offsets and sizes; `POST .../produce` appends keyed messages (Kafka's partitioner),
 * idempotently with a producer id and sequence; `POST .../partitions/{n}/fetch` reads one.
 * Declaring and deleting need configure on the topic, producing write, reading read.
 */
import type { Hono } from "hono";
import type { BrokerConfig } from "../config";
import { BrokerError, unwrap } from "../errors";
import { type ProducedMessage, produce, topicMetadata } from "../gateway/produce";
import { streamStub, vhostStub } from "../gateway/stubs";
import { declareTopic, deleteTopic } from "../gateway/topic-admin";
import type { PublishedMessage } from "../protocol/message";
import { decodePayload } from "../protocol/payload";
import { checkStreamArguments } from "../protocol/stream";
import { wireMessage } from "../protocol/stream-frames";
import {
  type ProduceBody,
  partitionStreamName,
  produceBodySchema,
  type TopicDeclaration,
  topicBodySchema,
} from "../protocol/topic";
import { parseBody, parseWith, readJson } from "./body";
import type { AppContext, AppEnv } from "./context";
import { authorize, mayPerform } from "./guards";

/** A topic is listed to those who may read it. */
function seesResource(c: AppContext, vhost: string, name: string): boolean {
  return mayPerform(c, "topic.describe", { vhost, name });
}

import { nameParam, vhostParam } from "./params";
import { resource } from "./routes";
import { fetchBodySchema, presentBounds, recheckAfterWait } from "./streams";

export async function requireTopic(
  c: AppContext,
  vhost: string,
  name: string,
): Promise<TopicDeclaration> {
  return unwrap(await topicMetadata(c.env, vhost, name)).topic;
}

export function partitionParam(c: AppContext, topic: TopicDeclaration): number {
  const text = c.req.param("partition") ?? "";
  const partition = /^\d{1,9}$/.test(text) ? Number(text) : Number.NaN;
  if (!Number.isInteger(partition) || partition >= topic.partitions) {
    throw new BrokerError(
      "bad_request",
      `partition '${text}' is out of range (topic '${topic.name}' has ${topic.partitions} partitions)`,
    );
  }
  return partition;
}

async function describeTopic(
  c: AppContext,
  topic: TopicDeclaration,
): Promise<Record<string, unknown>> {
  const partitions = await Promise.all(
    Array.from(
      { length: topic.partitions },
      async (_, partition): Promise<Record<string, unknown>> => {
        const stream = partitionStreamName(topic.name, partition);
        const info = await streamStub(c.env, topic.vhost, stream).info();
        return { partition, stream, ...(info.ok ? presentBounds(info.bounds) : {}) };
      },
    ),
  );
  return {
    name: topic.name,
    vhost: topic.vhost,
    arguments: topic.arguments,
    partitions: topic.partitions,
    messages: partitions.reduce((sum, p) => sum + (Number(p.messages) || 0), 0),
    bytes: partitions.reduce((sum, p) => sum + (Number(p.bytes) || 0), 0),
    partition_details: partitions,
  };
}

/** A produce body (HTTP or WebSocket frame) as the messages and producer stamp to append. */
export function producedMessages(
  topic: string,
  body: ProduceBody,
  config: BrokerConfig,
): { messages: ProducedMessage[]; producer?: { id: string; sequence: number } } {
  if ((body.producer_id === undefined) !== (body.sequence === undefined)) {
    throw new BrokerError("bad_request", "producer_id and sequence go together");
  }
  const messages = body.messages.map((m, i): ProducedMessage => {
    const decoded = decodePayload(m.payload, m.payload_encoding);
    if (!(decoded instanceof Uint8Array)) {
      throw new BrokerError(decoded.code, `messages.${i}: ${decoded.reason}`);
    }
    if (decoded.byteLength > config.maxMessageBytes) {
      throw new BrokerError(
        "payload_too_large",
        `messages.${i}: message size ${decoded.byteLength} is larger than configured max size ${config.maxMessageBytes}`,
      );
    }
    const message: PublishedMessage = {
      exchange: topic,
      routingKey: m.key ?? "",
      properties: m.properties,
      body: decoded,
    };
    return {
      message,
      key: m.key,
      ...(m.partition === undefined ? {} : { partition: m.partition }),
    };
  });
  return body.producer_id !== undefined && body.sequence !== undefined
    ? { messages, producer: { id: body.producer_id, sequence: body.sequence } }
    : { messages };
}

export function topicRoutes(app: Hono<AppEnv>): void {
  resource(app, "/api/topics/:vhost", {
    GET: async (c) => {
      const vhost = vhostParam(c);
      const { queues } = unwrap(await vhostStub(c.env, vhost).listQueues(vhost));
      const names = [
        ...new Set(
          queues
            .map((q) => q.arguments["x-topic"])
            .filter((name): name is string => typeof name === "string"),
        ),
      ].filter((name) => seesResource(c, vhost, name));
      const topics = await Promise.all(
        names.map(async (name) => {
          const meta = await topicMetadata(c.env, vhost, name);
          return meta.ok ? describeTopic(c, meta.topic) : null;
        }),
      );
      return c.json(topics.filter((t) => t !== null));
    },
  });

  resource(app, "/api/topics/:vhost/:name", {
    GET: async (c) => {
      const vhost = vhostParam(c);
      const name = nameParam(c, "queue");
      authorize(c, { vhost, name });
      return c.json(await describeTopic(c, await requireTopic(c, vhost, name)));
    },
    PUT: async (c) => {
      const vhost = vhostParam(c);
      const name = nameParam(c, "queue");
      const body = await parseBody(c, topicBodySchema);
      const invalid = checkStreamArguments(body.arguments);
      if (invalid) throw BrokerError.from(invalid);
      authorize(c, { vhost, name });
      const declaration: TopicDeclaration = {
        name,
        vhost,
        partitions: body.partitions,
        arguments: body.arguments,
      };
      const { created } = unwrap(await declareTopic(c.env, declaration));
      return c.body(null, created ? 201 : 204);
    },
    DELETE: async (c) => {
      const vhost = vhostParam(c);
      const name = nameParam(c, "queue");
      authorize(c, { vhost, name });
      unwrap(await deleteTopic(c.env, await requireTopic(c, vhost, name)));
      return c.body(null, 204);
    },
  });

  resource(app, "/api/topics/:vhost/:name/produce", {
    POST: async (c) => {
      const vhost = vhostParam(c);
      const name = nameParam(c, "queue");
      const body = parseWith(produceBodySchema, await readJson(c));
      authorize(c, { vhost, name });
      const topic = await requireTopic(c, vhost, name);
      const { messages, producer } = producedMessages(name, body, c.get("config"));
      const answer = unwrap(await produce(c.env, topic, messages, producer));
      return c.json({ results: answer.results, duplicate: answer.duplicate });
    },
  });

  resource(app, "/api/topics/:vhost/:name/partitions/:partition/fetch", {
    POST: async (c) => {
      const vhost = vhostParam(c);
      const name = nameParam(c, "queue");
      const body = await parseBody(c, fetchBodySchema);
      authorize(c, { vhost, name });
      const topic = await requireTopic(c, vhost, name);
      const partition = partitionParam(c, topic);
      const answer = unwrap(
        await streamStub(c.env, vhost, partitionStreamName(name, partition)).read({
          offset: body.offset,
          count: body.count,
          maxBytes: body.max_bytes,
          waitMs: body.wait_ms,
        }),
      );
      await recheckAfterWait(c, vhost, name, body.wait_ms, answer.messages.length);
      return c.json({
        ...presentBounds(answer.bounds),
        topic: name,
        partition,
        messages: answer.messages.map((m) => ({
          ...wireMessage(m, body.encoding),
          key: m.routingKey,
        })),
        next_offset: answer.next,
      });
    },
  });
}

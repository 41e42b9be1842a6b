/**
 * The `notifications` topic: POST /send appends each notification it routed, keyed by the
 * routing key (the recipient's id), so any service can read notifications as a consumer group
 * the way the article's Kafka consumer does. Created on first use, as Kafka creates a topic a
 * producer writes to (auto.create.topics.enable).
 */
import { NOTIFICATION_TOPIC } from "../config";
import type { Env } from "../env";
import { unwrap } from "../errors";
import type { PublishedMessage } from "../protocol/message";
import { produce, topicMetadata } from "./produce";
import { declareTopic } from "./topic-admin";

export async function appendNotifications(
  env: Env,
  vhost: string,
  messages: readonly PublishedMessage[],
): Promise<void> {
  if (messages.length === 0) return;
  let meta = await topicMetadata(env, vhost, NOTIFICATION_TOPIC.name);
  if (!meta.ok && meta.code === "not_found") {
    unwrap(
      await declareTopic(env, {
        name: NOTIFICATION_TOPIC.name,
        vhost,
        partitions: NOTIFICATION_TOPIC.partitions,
        arguments: { "x-max-age": NOTIFICATION_TOPIC.maxAge },
      }),
    );
    meta = await topicMetadata(env, vhost, NOTIFICATION_TOPIC.name);
  }
  const { topic } = unwrap(meta);
  unwrap(
    await produce(
      env,
      topic,
      messages.map((message) => ({ message, key: message.routingKey })),
    ),
  );
}

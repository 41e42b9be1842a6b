/**
 * Producing to a partitioned topic from the Worker: each message's partition is the explicit one,
 * Kafka's murmur2 of its key, or, without a key, the next in turn (spread); the batch is split by
 * partition, keeping each partition's messages in request order (so per-key order holds), and
 * appended to every partition's stream object in parallel, one chunk each. Answers once every
 * partition has stored its part.
 *
 * With a producer id and a sequence, each partition keeps the producer's last sequence: a retried
 * request is stored once and answers the offsets of the first attempt. Keyless messages of an
 * idempotent producer spread by sequence, so a retry lands where the first attempt did.
 */

import { LIMITS } from "../config";
import type { Env } from "../env";
import { type Failure, fail, type Result } from "../errors";
import type { PublishedMessage } from "../protocol/message";
import { partitionStreamName, type TopicDeclaration } from "../protocol/topic";
import { partitionForKey } from "../streams/partitioner";
import { streamStub, topicStub } from "./stubs";

export interface ProducedMessage {
  readonly message: PublishedMessage;
  readonly key: string | null;
  readonly partition?: number;
}

export type ProduceResult = Result<{
  results: { partition: number; offset: number }[];
  duplicate: boolean;
}>;

/** Turn of keyless messages per isolate (Kafka spreads them; we go round). */
let spread = 0;

const cache = new Map<string, { topic: TopicDeclaration; until: number }>();

/** A topic's metadata, cached per isolate as user access is (partition counts never shrink). */
export async function topicMetadata(
  env: Env,
  vhost: string,
  name: string,
): Promise<Result<{ topic: TopicDeclaration }>> {
  const key = JSON.stringify([vhost, name]);
  const hit = cache.get(key);
  if (hit && hit.until > Date.now()) return { ok: true, topic: hit.topic };
  const info = await topicStub(env, vhost, name).info();
  if (!info.ok) {
    cache.delete(key);
    return fail("not_found", `no topic '${name}' in vhost '${vhost}'`);
  }
  cache.set(key, { topic: info.topic, until: Date.now() + LIMITS.accessCacheMs });
  return info;
}

export function forgetTopic(vhost: string, name: string): void {
  cache.delete(JSON.stringify([vhost, name]));
}

export function choosePartitions(
  messages: readonly ProducedMessage[],
  partitions: number,
  sequence?: number,
): number[] | Failure {
  const start = sequence ?? spread;
  if (sequence === undefined) spread = (spread + messages.length) % 1_000_000_007;
  const out: number[] = [];
  for (const [i, m] of messages.entries()) {
    if (m.partition !== undefined) {
      if (m.partition >= partitions) {
        return fail(
          "bad_request",
          `messages.${i}.partition: partition ${m.partition} is out of range (the topic has ${partitions} partitions)`,
        );
      }
      out.push(m.partition);
    } else if (m.key !== null) {
      out.push(partitionForKey(m.key, partitions));
    } else {
      out.push((start + i) % partitions);
    }
  }
  return out;
}

export async function produce(
  env: Env,
  topic: TopicDeclaration,
  messages: readonly ProducedMessage[],
  producer?: { id: string; sequence: number },
): Promise<ProduceResult> {
  const chosen = choosePartitions(messages, topic.partitions, producer?.sequence);
  if (!Array.isArray(chosen)) return chosen;
  const byPartition = new Map<number, number[]>();
  chosen.forEach((partition, index) => {
    const list = byPartition.get(partition);
    if (list) list.push(index);
    else byPartition.set(partition, [index]);
  });
  const results = messages.map(() => ({ partition: 0, offset: -1 }));
  let duplicate = false;
  const answers = await Promise.all(
    [...byPartition].map(async ([partition, indexes]) => {
      const stub = streamStub(env, topic.vhost, partitionStreamName(topic.name, partition));
      const batch = indexes.map((i) => (messages[i] as ProducedMessage).message);
      const appended = await stub.append(batch, producer);
      if (appended.ok) {
        duplicate ||= appended.duplicate;
        indexes.forEach((index, j) => {
          results[index] = {
            partition,
            offset: appended.base < 0 ? -1 : appended.base + j,
          };
        });
      }
      return appended;
    }),
  );
  const failed = answers.find((a) => !a.ok);
  if (failed && !failed.ok) return failed;
  return { ok: true, results, duplicate };
}

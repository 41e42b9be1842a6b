/**
 * Declaring and deleting partitioned topics from the Worker: the partitions are stream queues
 * `{topic}-{n}` in the vhost's catalog (listed, exported and deleted like queues, as RabbitMQ
 * lists a super stream's partitions), then the topic object records the count.
 */
import type { Env } from "../env";
import { type Result, unwrap } from "../errors";
import { partitionStreamName, type TopicDeclaration } from "../protocol/topic";
import { forgetTopic } from "./produce";
import { topicStub, vhostStub } from "./stubs";

export async function declareTopic(
  env: Env,
  declaration: TopicDeclaration,
): Promise<Result<{ created: boolean }>> {
  const topic = topicStub(env, declaration.vhost, declaration.name);
  if ((await topic.info()).ok) {
    // Redeclaration: the same partition count or 400, nothing else to do.
    return topic.configure(declaration);
  }
  const catalog = vhostStub(env, declaration.vhost);
  for (let partition = 0; partition < declaration.partitions; partition++) {
    const declared = await catalog.declareQueue({
      name: partitionStreamName(declaration.name, partition),
      vhost: declaration.vhost,
      durable: true,
      auto_delete: false,
      exclusive: false,
      // `x-topic` marks the queue as a topic's partition, so the topic can be listed.
      arguments: {
        ...declaration.arguments,
        "x-queue-type": "stream",
        "x-topic": declaration.name,
      },
    });
    if (!declared.ok) return declared;
  }
  const configured = await topic.configure(declaration);
  forgetTopic(declaration.vhost, declaration.name);
  return configured;
}

export async function deleteTopic(env: Env, topic: TopicDeclaration): Promise<Result<object>> {
  const catalog = vhostStub(env, topic.vhost);
  for (let partition = 0; partition < topic.partitions; partition++) {
    const deleted = await catalog.deleteQueue(
      topic.vhost,
      partitionStreamName(topic.name, partition),
      {
        ifEmpty: false,
        ifUnused: false,
      },
    );
    if (!deleted.ok && deleted.code !== "not_found") return deleted;
  }
  unwrap(await topicStub(env, topic.vhost, topic.name).destroy());
  forgetTopic(topic.vhost, topic.name);
  return { ok: true };
}

/**
 * RabbitMQ's cycle rule for copies arriving from a dead-letter exchange: a copy is dropped by a
 * queue it already died in, unless it was rejected since (protocol/dead-letter.ts decides).
 */
import { isDeadLetterCycle } from "../protocol/dead-letter";
import type { PublishedMessage } from "../protocol/message";

export interface CycleFilter {
  /** The messages the queue takes, in order. */
  readonly accepted: readonly PublishedMessage[];
  /** Maps an index into `accepted` back to the index in the batch the queue was given. */
  readonly original: (index: number) => number;
}

export function withoutCycles(messages: readonly PublishedMessage[], queue: string): CycleFilter {
  if (!messages.some((m) => m.deadLettered)) return { accepted: messages, original: (i) => i };
  const kept = messages.flatMap((m, index) => (isDeadLetterCycle(m, queue) ? [] : [index]));
  return {
    accepted: kept.map((index) => messages[index] as PublishedMessage),
    original: (i) => kept[i] as number,
  };
}

/**
 * Waits until an object holds `count` long polls, so a test that publishes or appends "while a
 * poll waits" knows the poll is waiting in the object, not merely on its way there. No RPC says
 * how many polls wait: this reads the object's in-memory list by its field names (below), and
 * fails loudly, naming them, when a refactoring moved it, rather than passing by chance.
 */
import { runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { expect, vi } from "vitest";
import { EVENTUALLY } from "./barriers";

/** Where each object keeps its long polls: QueueObject -> QueueUpkeep -> PullWaiters. */
const QUEUE_POLLS = ["upkeep", "waiters", "waiting"];
/** StreamObject keeps its reads waiting for an append as a list of callbacks. */
const STREAM_POLLS = ["waiters"];

function waitingIn(instance: unknown, path: readonly string[]): number {
  let value: unknown = instance;
  for (const field of path) {
    value = typeof value === "object" && value !== null ? Reflect.get(value, field) : undefined;
  }
  if (!Array.isArray(value)) {
    throw new Error(
      `no list of long polls at ${path.join(".")}: update test/support/long-polls.ts`,
    );
  }
  return value.length;
}

async function untilWaiting(
  stub: DurableObjectStub,
  path: readonly string[],
  count: number,
): Promise<void> {
  await vi.waitFor(
    async () =>
      expect(await runInDurableObject(stub, (instance) => waitingIn(instance, path))).toBe(count),
    EVENTUALLY,
  );
}

/** Waits until the queue holds `count` pull long polls. */
export function untilQueuePolls(queue: string, count = 1, vhost = "/"): Promise<void> {
  return untilWaiting(
    env.QUEUES.getByName(JSON.stringify([vhost, queue])) as unknown as DurableObjectStub,
    QUEUE_POLLS,
    count,
  );
}

/** Waits until the stream holds `count` fetches waiting for an append. */
export function untilStreamPolls(stream: string, count = 1, vhost = "/"): Promise<void> {
  return untilWaiting(
    env.STREAMS.getByName(JSON.stringify([vhost, stream])) as unknown as DurableObjectStub,
    STREAM_POLLS,
    count,
  );
}

/** What deleting a queue checks and tells its consumers, as RabbitMQ's queue.delete does. */
import { type Failure, fail } from "../errors";
import type { QueueDeclaration } from "../protocol/declarations";
import { FRAME, type ServerFrame } from "../protocol/frames";
import { describe } from "../protocol/names";
import type { QueueStats } from "./queue-engine";

export interface DeleteOptions {
  readonly ifEmpty: boolean;
  readonly ifUnused: boolean;
}

/** RabbitMQ's if-empty and if-unused preconditions: the refusal, or null when deletion may go. */
export function deletionRefusal(
  declaration: QueueDeclaration,
  stats: QueueStats,
  options: DeleteOptions,
): Failure | null {
  const name = describe("queue", declaration.name, declaration.vhost);
  if (options.ifEmpty && stats.messages > 0) {
    return fail("bad_request", `PRECONDITION_FAILED - ${name} not empty`);
  }
  if (options.ifUnused && stats.consumers > 0) {
    return fail("bad_request", `PRECONDITION_FAILED - ${name} in use`);
  }
  return null;
}

/** The cancel frame each consumer of a deleted queue gets before its socket closes. */
export function deletedQueueCancel(tag: string): ServerFrame {
  return { type: FRAME.cancel, tag, reason: "queue deleted" };
}

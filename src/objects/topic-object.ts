/**
 * A partitioned topic's metadata: one Durable Object per (vhost, topic) holding the partition
 * count and the partitions' retention. The partitions themselves are stream queues in the vhost's
 * catalog (`{topic}-{n}`), each its own StreamObject, so producing to N partitions writes to N
 * objects in parallel and nothing else is on the path.
 */
import { DurableObject } from "cloudflare:workers";
import type { Env } from "../env";
import { fail, type Result } from "../errors";
import type { TopicDeclaration } from "../protocol/topic";
import { migrate } from "../storage/migrations";
import { TOPIC_MIGRATIONS, TopicStore } from "../storage/topic-store";

export class TopicObject extends DurableObject<Env> {
  private readonly store: TopicStore;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    migrate(ctx.storage, TOPIC_MIGRATIONS);
    this.store = new TopicStore(ctx.storage.sql);
  }

  /** Declares the topic; a redeclaration must name the same partition count. */
  configure(declaration: TopicDeclaration): Result<{ created: boolean }> {
    const current = this.current();
    if (current) {
      if (current.partitions !== declaration.partitions) {
        return fail(
          "bad_request",
          `inequivalent arg 'partitions' for topic '${declaration.name}' in vhost '${declaration.vhost}': received '${declaration.partitions}' but current is '${current.partitions}'`,
        );
      }
      return { ok: true, created: false };
    }
    this.store.putDeclaration(declaration);
    return { ok: true, created: true };
  }

  info(): Result<{ topic: TopicDeclaration }> {
    const topic = this.current();
    return topic ? { ok: true, topic } : fail("not_found", "Not Found");
  }

  destroy(): Result<object> {
    if (!this.current()) return fail("not_found", "Not Found");
    this.store.clear();
    return { ok: true };
  }

  private current(): TopicDeclaration | null {
    return this.store.declaration();
  }
}

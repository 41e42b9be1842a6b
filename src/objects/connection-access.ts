/**
 * Whether the users behind a queue's consumer connections may still read it. Checked on every
 * frame a connection sends, and for all connections before deliveries at most once per
 * LIMITS.accessCacheMs, so a deleted user or a revoked read permission ends the connection
 * within that bound (the access cache itself is per isolate, src/objects/access-cache.ts).
 */
import { allows } from "../access/user-access";
import { LIMITS } from "../config";
import type { Env } from "../env";
import { currentAccess } from "./access-cache";

export class ConnectionAccess {
  private checkedUntil = 0;

  constructor(private readonly env: Env) {}

  async mayRead(user: string, vhost: string, queue: string): Promise<boolean> {
    const access = await currentAccess(this.env, user);
    return access !== null && allows(access, vhost, "read", "queue", queue);
  }

  /** The users among `users` who lost the right; nothing while the last sweep is recent. */
  async revoked(users: readonly string[], vhost: string, queue: string): Promise<Set<string>> {
    const now = Date.now();
    const gone = new Set<string>();
    if (now < this.checkedUntil) return gone;
    this.checkedUntil = now + LIMITS.accessCacheMs;
    for (const user of new Set(users)) {
      if (!(await this.mayRead(user, vhost, queue))) gone.add(user);
    }
    return gone;
  }
}

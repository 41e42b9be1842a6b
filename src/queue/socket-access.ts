/**
 * Whether the users behind a queue's consumer sockets may still read it, checked before
 * deliveries without costing the delivery path anything: each socket remembers until when its
 * last check holds and the isolate's access version it was made at (a number that moves with
 * every registry change made from this isolate, src/gateway/access-cache.ts). Dispatch compares
 * the two (`isCurrent`, a map lookup); a socket that is not current gets no deliveries until it
 * has been checked again against the registry (`refresh`), which happens off the delivery path.
 *
 * A socket is bound to the identity that logged in (the user's identity in the registry, new
 * when the user is re-created or its password is set): a different identity is a revocation.
 *
 * Bound: a revocation reaches an open socket before its next delivery on the isolate that made
 * the change, and within LIMITS.accessCacheMs (5 s) elsewhere. docs/security.md.
 */
import { permitted } from "../access/operation-check";
import { frameOperation } from "../access/operations";
import { LIMITS } from "../config";
import type { Env } from "../env";
import { accessVersion, freshAccess } from "../gateway/access-cache";

/**
 * Every consumer frame's operation (the permission table's frame.consume: read on the queue):
 * the queue object checks it for the connection before each frame and each delivery.
 */
const CONSUMER = frameOperation("consumer", "consume");

export interface SocketOwner {
  readonly connection: string;
  readonly user: string;
  /** The identity the socket logged in as; "" when unknown (a socket from before identities). */
  readonly identity: string;
}

/** A socket's owner as its attachment stored it (src/runtime/hibernating-object.ts). */
export function socketOwner(stored: unknown): SocketOwner {
  const attachment = stored as Partial<SocketOwner> | null;
  return {
    connection: attachment?.connection ?? "",
    user: attachment?.user ?? "",
    // A socket accepted before identities existed matches none: it is closed at its next check.
    identity: attachment?.identity ?? "",
  };
}

/** The owner of a socket the Worker authenticated and forwarded (its X-Broker-* headers). */
export function requestOwner(request: Request): SocketOwner {
  return {
    connection: request.headers.get("X-Broker-Connection") ?? crypto.randomUUID(),
    user: request.headers.get("X-Broker-User") ?? "",
    identity: request.headers.get("X-Broker-Identity") ?? "",
  };
}

interface Check {
  readonly until: number;
  readonly version: number;
}

export class SocketAccess {
  private readonly checks = new Map<string, Check>();
  private running: Promise<Set<string>> | null = null;

  constructor(private readonly env: Env) {}

  /** The hot path: true while the socket's last check holds. */
  isCurrent(connection: string, now: number): boolean {
    const check = this.checks.get(connection);
    return check !== undefined && check.until > now && check.version === accessVersion();
  }

  /** A socket that has just logged in (the Worker checked its access on the upgrade). */
  admit(connection: string, now: number): void {
    this.checks.set(connection, { until: now + LIMITS.accessCacheMs, version: accessVersion() });
  }

  forget(connection: string): void {
    this.checks.delete(connection);
  }

  /**
   * Checks every socket that is not current against the registry; answers the connections whose
   * user is gone, is another identity now, or may no longer read the queue. Calls made while a
   * check runs share it.
   */
  refresh(owners: readonly SocketOwner[], vhost: string, queue: string): Promise<Set<string>> {
    if (!this.running) {
      this.running = this.check(owners, vhost, queue).finally(() => {
        this.running = null;
      });
    }
    return this.running;
  }

  private async check(
    owners: readonly SocketOwner[],
    vhost: string,
    queue: string,
  ): Promise<Set<string>> {
    const version = accessVersion();
    const started = Date.now();
    const stale = owners.filter((o) => !this.isCurrent(o.connection, started));
    const verdicts = new Map<string, Promise<{ identity: string } | null>>();
    for (const { user } of stale) {
      if (!verdicts.has(user)) {
        verdicts.set(
          user,
          freshAccess(this.env, user).then((access) =>
            access && permitted(access, CONSUMER, { vhost, name: queue })
              ? { identity: access.identity }
              : null,
          ),
        );
      }
    }
    const revoked = new Set<string>();
    for (const owner of stale) {
      const verdict = await verdicts.get(owner.user);
      if (!verdict || verdict.identity !== owner.identity) {
        revoked.add(owner.connection);
        this.checks.delete(owner.connection);
      } else {
        // Valid from when the registry was asked, at the version before asking: a change made
        // meanwhile leaves the socket stale, to be checked again.
        this.checks.set(owner.connection, { until: started + LIMITS.accessCacheMs, version });
      }
    }
    return revoked;
  }
}

/**
 * Ends consumer sockets whose user may no longer read the queue (deleted, password changed,
 * permission revoked), without costing the delivery path anything: dispatch asks `mayDeliver`
 * (a map lookup while a socket's check holds, src/queue/socket-access.ts); a socket that is not
 * current gets nothing until it has been checked against the registry, which runs in the
 * object's turn order, off the delivery path, after which held-back deliveries go.
 */
import type { Env } from "../env";
import { errorFrame } from "../protocol/frames";
import { SocketAccess, type SocketOwner } from "./socket-access";

/** After a failed access check (the registry did not answer), the next try. */
const ACCESS_RETRY_MS = 1000;

/** WebSocket close code for a socket whose access was revoked. */
const ACCESS_REFUSED_CLOSE = 4003;

export interface RevocationHost {
  /** The queue's vhost and name; null once it is deleted. */
  readonly queue: () => { readonly vhost: string; readonly name: string } | null;
  readonly sockets: () => WebSocket[];
  readonly owner: (socket: WebSocket) => SocketOwner;
  /** Runs a step in the object's turn order (after the frames before it). */
  readonly inTurn: (step: () => Promise<void>) => Promise<void>;
  /** An expelled socket's connection is gone: its consumers and deliveries with it. */
  readonly closed: (socket: WebSocket) => void;
  /** A check off the delivery path finished: held-back deliveries may go now. */
  readonly checked: () => void;
}

export class ConsumerRevocation {
  private readonly access: SocketAccess;
  private checkQueued = false;

  constructor(
    env: Env,
    private readonly host: RevocationHost,
  ) {
    this.access = new SocketAccess(env);
  }

  /** A socket that has just logged in (the Worker checked its access on the upgrade). */
  admit(connection: string, now: number): void {
    this.access.admit(connection, now);
  }

  forget(connection: string): void {
    this.access.forget(connection);
  }

  /**
   * Dispatch asks this before each delivery. A socket that is not current gets nothing now; its
   * check runs, then `checked` lets dispatch run again.
   */
  mayDeliver(connection: string): boolean {
    if (this.access.isCurrent(connection, Date.now())) return true;
    this.requestCheck();
    return false;
  }

  /**
   * Before a frame from `socket` is handled: answers whether it may be. A socket whose check does
   * not hold is checked first; if the registry does not answer, the socket is told to retry.
   */
  async admitsFrame(socket: WebSocket): Promise<boolean> {
    const { connection } = this.host.owner(socket);
    if (!this.host.queue() || this.access.isCurrent(connection, Date.now())) return true;
    let revoked: Set<string>;
    try {
      revoked = await this.checkSockets();
      // A check already running when this socket went stale may not have covered it.
      if (!this.access.isCurrent(connection, Date.now())) revoked = await this.checkSockets();
    } catch (error) {
      console.error("checking a consumer's access failed", error);
      socket.send(JSON.stringify(errorFrame("unavailable", "access could not be checked: retry")));
      return false;
    }
    return !revoked.has(connection);
  }

  private requestCheck(): void {
    if (this.checkQueued) return;
    this.checkQueued = true;
    void this.host.inTurn(async () => {
      this.checkQueued = false;
      try {
        await this.checkSockets();
      } catch (error) {
        // The registry did not answer: the sockets stay unchecked (no deliveries); try again.
        console.error("checking consumers' access failed", error);
        setTimeout(() => this.requestCheck(), ACCESS_RETRY_MS);
        return;
      }
      this.host.checked();
    });
  }

  /** Checks the sockets whose access is not current; ends the revoked ones and answers them. */
  private async checkSockets(): Promise<Set<string>> {
    const queue = this.host.queue();
    if (!queue) return new Set();
    const sockets = this.host.sockets();
    const revoked = await this.access.refresh(
      sockets.map(this.host.owner),
      queue.vhost,
      queue.name,
    );
    for (const socket of sockets) {
      const { connection, user } = this.host.owner(socket);
      if (revoked.has(connection)) this.expel(socket, user);
    }
    return revoked;
  }

  private expel(socket: WebSocket, user: string): void {
    const reason = `user '${user}' may no longer read this queue (deleted, password changed or permission revoked)`;
    try {
      socket.send(JSON.stringify(errorFrame("access_refused", reason)));
      socket.close(ACCESS_REFUSED_CLOSE, "access refused");
    } catch {
      // Already closing.
    }
    this.host.closed(socket);
  }
}

/**
 * Exclusive queues (queue.declare exclusive=true): owned by the AMQP connection that declared
 * them, refused to every other connection with 405 RESOURCE_LOCKED, and deleted when their
 * connection ends, as RabbitMQ does. The broker has no connection-owned queues, so ownership
 * is kept here, per bridge process: connections through another bridge are not refused.
 */
import { AmqpError, REPLY } from "./reply-codes.ts";

export class ExclusiveQueues {
  private readonly owners = new Map<string, string>();

  private key(vhost: string, name: string): string {
    return `${vhost}\u0000${name}`;
  }

  /** Throws RESOURCE_LOCKED when another connection owns the queue. */
  check(vhost: string, name: string, connection: string): void {
    const owner = this.owners.get(this.key(vhost, name));
    if (owner !== undefined && owner !== connection) {
      throw new AmqpError(
        REPLY.resourceLocked,
        `cannot obtain exclusive access to locked queue '${name}' in vhost '${vhost}'. It could be originally declared on another connection or the exclusive property value does not match that of the original declaration.`,
      );
    }
  }

  claim(vhost: string, name: string, connection: string): void {
    this.owners.set(this.key(vhost, name), connection);
  }

  forget(vhost: string, name: string): void {
    this.owners.delete(this.key(vhost, name));
  }

  /** The queues a connection owned; they are no longer owned. */
  release(connection: string): { vhost: string; name: string }[] {
    const out: { vhost: string; name: string }[] = [];
    for (const [key, owner] of this.owners) {
      if (owner !== connection) continue;
      this.owners.delete(key);
      const [vhost = "", name = ""] = key.split("\u0000");
      out.push({ vhost, name });
    }
    return out;
  }
}

/**
 * What a queue tells its vhost's catalog (the vhost object), always off the message path and
 * kept alive with waitUntil: its counts (through QueueReporter), a consumer connection that
 * closed (its place in max-connections), and an auto-delete queue whose last consumer went.
 */
import type { Env } from "../env";
import { vhostStub } from "../gateway/stubs";
import type { QueueDeclaration } from "../protocol/declarations";
import type { QueueReport } from "./queue-report";

export class CatalogLink {
  constructor(
    private readonly env: Env,
    private readonly declaration: () => QueueDeclaration | null,
    private readonly waitUntil: (work: Promise<unknown>) => void,
  ) {}

  /**
   * An auto-delete queue is deleted when its last consumer goes (RabbitMQ: "a queue that has had
   * at least one consumer is deleted when the last consumer unsubscribes"). Through the catalog,
   * so bindings go too; with if-unused, so a consumer arriving meanwhile keeps it.
   */
  autoDeleteIfUnused(consumers: number): void {
    const declaration = this.declaration();
    if (!declaration?.auto_delete || consumers > 0) return;
    const { vhost, name } = declaration;
    this.waitUntil(
      vhostStub(this.env, vhost)
        .deleteQueue(vhost, name, { ifEmpty: false, ifUnused: true })
        .then(() => undefined),
    );
  }

  /** Frees the connection's place in the vhost's max-connections count. */
  connectionClosed(connection: string): void {
    const vhost = this.declaration()?.vhost;
    if (vhost === undefined) return;
    this.waitUntil(
      vhostStub(this.env, vhost)
        .closeConnection(connection)
        .then(() => undefined),
    );
  }

  /** Sends the queue's counts (QueueReporter throttles the calls). */
  report(report: QueueReport): Promise<unknown> {
    const declaration = this.declaration();
    if (!declaration) return Promise.resolve();
    const sent = vhostStub(this.env, declaration.vhost).reportQueue(declaration.name, report);
    this.waitUntil(
      sent.then(
        () => undefined,
        () => undefined,
      ),
    );
    return sent;
  }
}

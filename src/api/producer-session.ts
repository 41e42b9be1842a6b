/**
 * A producer connection: a WebSocket on which a client pipelines publish frames, each with its
 * own sequence number, without waiting, and receives a confirm per sequence number once every
 * routed copy is stored (`routed` false when no queue took it), or a nack with a reason. This is
 * RabbitMQ's publisher-confirm model over JSON frames (docs/websocket-protocol.md).
 *
 * Frames for one exchange are group-committed: while a batch is with the exchange object, later
 * frames gather into the next batch. Confirms leave in sequence order; a run of consecutive
 * confirms with the same verdict is sent as one frame with `multiple: true`.
 */
import { hasVhostAccess, type UserAccess } from "../access/user-access";
import type { BrokerConfig } from "../config";
import { LIMITS } from "../config";
import type { Env } from "../env";
import { BrokerError } from "../errors";
import { currentAccess } from "../objects/access-cache";
import { Coalescer } from "../objects/coalescer";
import { publishMessages } from "../objects/publish";
import {
  errorFrame,
  FRAME,
  parseFrame,
  publishFrameSchema,
  type ServerFrame,
} from "../protocol/frames";
import type { PublishedMessage } from "../protocol/message";
import { checkName, exchangeNameFromPath } from "../protocol/names";
import { toMessage } from "./message-input";
import { publishRefusal } from "./publish-access";

type Outcome = { routed: boolean } | { code: string; reason: string };

interface Pending {
  readonly seq: number;
  outcome?: Outcome;
}

export class ProducerSession {
  private readonly pending: Pending[] = [];
  private lastSeq = 0;
  private readonly exchanges: Coalescer<PublishedMessage, boolean>;
  /** Frames are checked one after another, so they reach the exchanges in the order sent. */
  private checks: Promise<void> = Promise.resolve();
  private flushQueued = false;

  constructor(
    private readonly socket: WebSocket,
    private readonly env: Env,
    private readonly vhost: string,
    private readonly principal: UserAccess,
    private readonly config: BrokerConfig,
  ) {
    this.exchanges = new Coalescer((exchange, messages) =>
      publishMessages(env, vhost, exchange, messages),
    );
  }

  /** Frames larger than a message can be (base64 of the largest body plus its envelope). */
  private get frameLimit(): number {
    return Math.ceil(this.config.maxMessageBytes * 1.4) + LIMITS.maxPropertiesBytes + 4096;
  }

  receive(data: string | ArrayBuffer): void {
    if (typeof data !== "string") {
      this.send(errorFrame("bad_frame", "frames are JSON text, not binary"));
      return;
    }
    const parsed = parseFrame(publishFrameSchema, data, this.frameLimit);
    if (!parsed.ok) {
      this.send(errorFrame(parsed.code, parsed.reason));
      return;
    }
    const frame = parsed.frame;
    if (frame.seq <= this.lastSeq) {
      this.send(
        errorFrame(
          "bad_seq",
          `seq ${frame.seq} is not above the last seq ${this.lastSeq}`,
          FRAME.publish,
        ),
      );
      return;
    }
    this.lastSeq = frame.seq;
    const entry: Pending = { seq: frame.seq };
    this.pending.push(entry);
    let message: PublishedMessage;
    let exchange: string;
    try {
      exchange = exchangeNameFromPath(frame.exchange);
      const badName = exchange === "" ? null : checkName("exchange", exchange);
      if (badName) throw BrokerError.from(badName);
      message = toMessage(
        exchange,
        { properties: {}, payload_encoding: "string", ...frame },
        this.config,
      );
    } catch (error) {
      this.settle(entry, failure(error));
      return;
    }
    this.checks = this.checks.then(() => this.authorizeAndSubmit(entry, exchange, message));
  }

  /** The user's current rights decide each frame: a deleted user's connection ends. */
  private async authorizeAndSubmit(
    entry: Pending,
    exchange: string,
    message: PublishedMessage,
  ): Promise<void> {
    const user = this.principal.name;
    const access = await currentAccess(this.env, user);
    // Bound to the identity that logged in: a user deleted and created again, or whose
    // password was set, is someone else for this connection.
    if (
      !access ||
      access.identity !== this.principal.identity ||
      !hasVhostAccess(access, this.vhost)
    ) {
      const reason = `user '${user}' no longer has access to vhost '${this.vhost}'`;
      entry.outcome = { code: "access_refused", reason };
      this.flush(); // before the socket closes
      this.send(errorFrame("access_refused", reason));
      this.socket.close(4003, "access refused");
      return;
    }
    const refused = await publishRefusal(this.env, access, this.vhost, exchange, [message]);
    if (refused) {
      this.settle(entry, failure(refused));
      return;
    }
    this.exchanges.submit(exchange, [message]).then(
      ([routed]) => this.settle(entry, { routed: routed === true }),
      (error: unknown) => this.settle(entry, failure(error)),
    );
  }

  private settle(entry: Pending, outcome: Outcome): void {
    entry.outcome = outcome;
    // A batch's verdicts arrive as a run of callbacks in one turn: flush once after all of them,
    // so consecutive confirms leave as one frame with `multiple`.
    if (!this.flushQueued) {
      this.flushQueued = true;
      queueMicrotask(() => {
        this.flushQueued = false;
        this.flush();
      });
    }
  }

  /** Sends the verdicts of the oldest outstanding frames, in sequence order. */
  private flush(): void {
    while (this.pending[0]?.outcome) {
      const head = this.pending.shift() as Pending;
      const outcome = head.outcome as Outcome;
      if (!("routed" in outcome)) {
        this.send({ type: FRAME.nack, seq: head.seq, code: outcome.code, reason: outcome.reason });
        continue;
      }
      let last = head.seq;
      let count = 1;
      while (true) {
        const next = this.pending[0]?.outcome;
        if (!next || !("routed" in next) || next.routed !== outcome.routed) break;
        last = (this.pending.shift() as Pending).seq;
        count++;
      }
      this.send({ type: FRAME.confirm, seq: last, multiple: count > 1, routed: outcome.routed });
    }
  }

  private send(frame: ServerFrame): void {
    try {
      this.socket.send(JSON.stringify(frame));
    } catch {
      // The producer went away; unconfirmed messages are its to resend.
    }
  }
}

function failure(error: unknown): Outcome {
  if (error instanceof BrokerError) return { code: error.code, reason: error.reason };
  console.error("publish over WebSocket failed", error);
  return { code: "internal_error", reason: "the message was not stored" };
}

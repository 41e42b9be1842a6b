/**
 * A producer connection: a WebSocket on which a client pipelines publish frames, each with its
 * own sequence number, without waiting, and receives a confirm per sequence number once every
 * routed copy is stored (`routed` false when no queue took it), or a nack with a reason. This is
 * RabbitMQ's publisher-confirm model over JSON frames (docs/websocket-protocol.md).
 *
 * A frame carries one message or a list of them (each with its own seq). Messages for one
 * exchange are group-committed: while a batch is with the exchange object, later
 * frames gather into the next batch. Confirms leave in sequence order; a run of consecutive
 * confirms with the same verdict is sent as one frame with `multiple: true`.
 */
import { permitted } from "../access/operation-check";
import { frameOperation, operation } from "../access/operations";
import type { UserAccess } from "../access/user-access";
import type { BrokerConfig } from "../config";
import { LIMITS } from "../config";
import type { Env } from "../env";
import { BrokerError } from "../errors";
import { currentAccess } from "../gateway/access-cache";
import { publishWithOutcomes } from "../gateway/publish";
import type { FrameErrorCode } from "../protocol/error-codes";
import {
  entryAsPublishBody,
  errorFrame,
  FRAME,
  type PublishEntry,
  parsePublishFrame,
  type ServerFrame,
} from "../protocol/frames";
import type { PublishedMessage } from "../protocol/message";
import { checkName, exchangeNameFromPath } from "../protocol/names";
import { isRefused, isStored, REFUSED_CODE, type Routed } from "../protocol/publish-outcome";
import { Coalescer } from "../runtime/coalescer";
import { toMessage } from "./message-input";
import { publishRefusal } from "./publish-access";

type Outcome = { routed: boolean } | { code: FrameErrorCode; reason: string };

interface Pending {
  readonly seq: number;
  outcome?: Outcome;
}

interface Accepted {
  readonly pending: Pending;
  readonly exchange: string;
  readonly message: PublishedMessage;
}

/** What each publish frame needs (the permission table's frame.publish). */
const PUBLISH = frameOperation("producer", "publish");

export class ProducerSession {
  private readonly pending: Pending[] = [];
  private lastSeq = 0;
  private readonly exchanges: Coalescer<PublishedMessage, Routed>;
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
      publishWithOutcomes(env, vhost, exchange, messages),
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
    const parsed = parsePublishFrame(data, this.frameLimit);
    if (!parsed.ok) {
      this.send(errorFrame(parsed.code, parsed.reason));
      return;
    }
    const accepted: Accepted[] = [];
    for (const entry of parsed.frame) {
      const item = this.accept(entry);
      if (item) accepted.push(item);
    }
    if (accepted.length === 0) return;
    this.checks = this.checks.then(() => this.authorizeAndSubmit(accepted));
  }

  /** One message of a frame: its seq taken, its fields validated (a nack when they are not). */
  private accept(entry: PublishEntry): Accepted | null {
    if (entry.seq <= this.lastSeq) {
      this.send(
        errorFrame(
          "bad_seq",
          `seq ${entry.seq} is not above the last seq ${this.lastSeq}`,
          FRAME.publish,
        ),
      );
      return null;
    }
    this.lastSeq = entry.seq;
    const pending: Pending = { seq: entry.seq };
    this.pending.push(pending);
    try {
      const exchange = exchangeNameFromPath(entry.exchange);
      const badName = exchange === "" ? null : checkName("exchange", exchange);
      if (badName) throw BrokerError.from(badName);
      const message = toMessage(exchange, entryAsPublishBody(entry), this.config);
      return { pending, exchange, message };
    } catch (error) {
      this.settle(pending, failure(error));
      return null;
    }
  }

  /**
   * The user's current rights decide each frame: a deleted user's connection ends. A frame's
   * messages go to each exchange as one submission (one group commit per destination), in order.
   */
  private async authorizeAndSubmit(accepted: readonly Accepted[]): Promise<void> {
    const user = this.principal.name;
    const access = await currentAccess(this.env, user);
    // Bound to the identity that logged in: a user deleted and created again, or whose
    // password was set, is someone else for this connection.
    if (
      !access ||
      access.identity !== this.principal.identity ||
      !permitted(access, operation("exchange.produce"), { vhost: this.vhost })
    ) {
      const reason = `user '${user}' no longer has access to vhost '${this.vhost}'`;
      for (const item of accepted) item.pending.outcome = { code: "access_refused", reason };
      this.flush(); // before the socket closes
      this.send(errorFrame("access_refused", reason));
      this.socket.close(4003, "access refused");
      return;
    }
    for (const [exchange, group] of byExchange(accepted)) {
      let allowed = group;
      if (
        await publishRefusal(
          this.env,
          access,
          PUBLISH,
          this.vhost,
          exchange,
          group.map((i) => i.message),
        )
      ) {
        // Something in the group is refused (a permission, a user_id): find out which, one by one.
        const kept: Accepted[] = [];
        for (const item of group) {
          const refused = await publishRefusal(this.env, access, PUBLISH, this.vhost, exchange, [
            item.message,
          ]);
          if (refused) this.settle(item.pending, failure(refused));
          else kept.push(item);
        }
        allowed = kept;
      }
      if (allowed.length === 0) continue;
      this.exchanges
        .submit(
          exchange,
          allowed.map((i) => i.message),
        )
        .then(
          (routed) => {
            allowed.forEach((item, index) => {
              const outcome = routed[index];
              this.settle(
                item.pending,
                isRefused(outcome)
                  ? { code: REFUSED_CODE, reason: outcome.refused }
                  : { routed: isStored(outcome) },
              );
            });
          },
          (error: unknown) => {
            const outcome = failure(error);
            for (const item of allowed) this.settle(item.pending, outcome);
          },
        );
    }
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

/** A frame's messages by exchange, in order; a frame for one exchange (the usual) as it is. */
function byExchange(accepted: readonly Accepted[]): Iterable<[string, readonly Accepted[]]> {
  const first = (accepted[0] as Accepted).exchange;
  if (accepted.every((item) => item.exchange === first)) return [[first, accepted]];
  return Map.groupBy(accepted, (item) => item.exchange);
}

function failure(error: unknown): Outcome {
  if (error instanceof BrokerError) return { code: error.code, reason: error.reason };
  console.error("publish over WebSocket failed", error);
  return { code: "internal_error", reason: "the message was not stored" };
}

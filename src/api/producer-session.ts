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
import type { BrokerConfig } from "../config";
import { LIMITS } from "../config";
import type { Env } from "../env";
import { BrokerError } from "../errors";
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

type Outcome = { routed: boolean } | { code: string; reason: string };

interface Pending {
  readonly seq: number;
  outcome?: Outcome;
}

export class ProducerSession {
  private readonly pending: Pending[] = [];
  private lastSeq = 0;
  private readonly exchanges: Coalescer<PublishedMessage, boolean>;

  constructor(
    private readonly socket: WebSocket,
    env: Env,
    vhost: string,
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
    this.exchanges.submit(exchange, [message]).then(
      ([routed]) => this.settle(entry, { routed: routed === true }),
      (error: unknown) => this.settle(entry, failure(error)),
    );
  }

  private settle(entry: Pending, outcome: Outcome): void {
    entry.outcome = outcome;
    this.flush();
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

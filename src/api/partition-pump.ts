/**
 * Reads one stream (or topic partition) for a WebSocket reader: long-polls the stream object
 * from the reader's position, and sends what the reader's credit allows as one deliver frame
 * (many messages per frame). Each pump has its own position, so pumps never wait for each other.
 */
import { STREAM_LIMITS } from "../config";
import type { Env } from "../env";
import { streamStub } from "../gateway/stubs";
import type { FrameErrorCode } from "../protocol/error-codes";
import { type StreamServerFrame, streamDeliverFrame } from "../protocol/stream-frames";
import type { CreditGate } from "../streams/credit-gate";

export interface PumpTarget {
  readonly vhost: string;
  readonly stream: string;
  /** Set for a topic partition: deliver frames name it. */
  readonly topic?: string;
  readonly partition?: number;
}

export interface PumpHooks {
  send(frame: StreamServerFrame): void;
  /** Checked before each read: a revoked permission ends the pump. */
  allowed(): Promise<boolean>;
  /** Called with the offset after the last message delivered. */
  delivered(target: PumpTarget, next: number, count: number): void;
  failed(code: FrameErrorCode, reason: string): void;
}

export class PartitionPump {
  private stopped = false;

  constructor(
    private readonly env: Env,
    readonly target: PumpTarget,
    public position: number,
    private readonly gate: CreditGate,
    private readonly encoding: "auto" | "base64",
    private readonly hooks: PumpHooks,
  ) {}

  stop(): void {
    this.stopped = true;
  }

  get running(): boolean {
    return !this.stopped;
  }

  async run(): Promise<void> {
    const stub = streamStub(this.env, this.target.vhost, this.target.stream);
    while (!this.stopped) {
      await this.gate.whenAvailable();
      if (this.stopped) return;
      if (!(await this.hooks.allowed())) {
        this.hooks.failed("access_refused", `read access to '${this.target.stream}' refused`);
        return;
      }
      const answer = await stub.read({
        offset: this.position,
        // Up to the whole credit in one read (sent as several frames): fewer round trips.
        count: Math.min(STREAM_LIMITS.maxFetchCount, Math.max(1, this.gate.available)),
        maxBytes: STREAM_LIMITS.defaultFetchBytes,
        waitMs: STREAM_LIMITS.maxFetchWaitMs,
      });
      if (this.stopped) return;
      if (!answer.ok) {
        this.hooks.failed(answer.code, answer.reason);
        return;
      }
      // Checked again once the read returns: a long poll may have waited across a revocation.
      if (answer.messages.length > 0 && !(await this.hooks.allowed())) {
        this.hooks.failed("access_refused", `read access to '${this.target.stream}' refused`);
        return;
      }
      if (this.stopped) return;
      // Credit may have been spent by another partition while this read waited.
      const granted = this.gate.take(answer.messages.length);
      const messages = answer.messages.slice(0, granted);
      const last = messages[messages.length - 1];
      if (last) {
        this.position = last.offset + 1;
        for (let i = 0; i < messages.length; i += STREAM_LIMITS.maxFrameMessages) {
          const part = messages.slice(i, i + STREAM_LIMITS.maxFrameMessages);
          this.hooks.send(streamDeliverFrame(this.target, part, this.encoding));
        }
        this.hooks.delivered(this.target, this.position, messages.length);
      } else if (answer.messages.length === 0) {
        // Retention may have moved the log's start past this position.
        this.position = Math.max(this.position, answer.next);
      }
    }
  }
}

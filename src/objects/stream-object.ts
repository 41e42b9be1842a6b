/**
 * A stream (RabbitMQ's `x-queue-type: stream`, one partition of a topic): an append-only log in
 * its own Durable Object. Exchanges fan out to it like to a queue (`append`), reading never
 * removes, every message gets a dense offset and the broker's arrival timestamp, and retention
 * (`x-max-age`, `x-max-length-bytes`) runs by alarm over whole chunks, never the newest.
 *
 * Readers do not register here: each read names its offset, so one slow reader never holds back
 * another. A read with nothing to answer may wait (long poll) until an append wakes it.
 */
import { DurableObject } from "cloudflare:workers";
import { STREAM_LIMITS } from "../config";
import type { Env } from "../env";
import { fail, type Result } from "../errors";
import type { QueueDeclaration } from "../protocol/declarations";
import type { PublishedMessage } from "../protocol/message";
import {
  encodeChunk,
  encodedSize,
  type OffsetSpec,
  retentionOf,
  type StreamMessage,
} from "../protocol/stream";
import { fromJsonColumn, toJsonColumn } from "../storage/json-column";
import { migrate } from "../storage/migrations";
import { type LogBounds, STREAM_MIGRATIONS, StreamStore } from "../storage/stream-store";

export type AppendResult = Result<{ base: number; count: number; duplicate: boolean }>;

export interface ReadRequest {
  readonly offset: OffsetSpec;
  readonly count: number;
  readonly maxBytes: number;
  readonly waitMs: number;
}

export type ReadResult = Result<{
  messages: StreamMessage[];
  /** The offset to ask for next: after the last message answered, or where the read started. */
  next: number;
  bounds: LogBounds;
}>;

/** A producer's batch: RabbitMQ's publishing id / Kafka's per-partition sequence. */
export interface ProducerStamp {
  readonly id: string;
  readonly sequence: number;
}

export class StreamObject extends DurableObject<Env> {
  private readonly store: StreamStore;
  private declaration: QueueDeclaration | null;
  private waiters: (() => void)[] = [];

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    migrate(ctx.storage, STREAM_MIGRATIONS);
    this.store = new StreamStore(ctx.storage.sql);
    const saved = this.store.getMeta("declaration");
    this.declaration = saved ? fromJsonColumn<QueueDeclaration | null>(saved, null) : null;
  }

  configure(declaration: QueueDeclaration): Result<{ created: boolean }> {
    const created = this.declaration === null;
    this.store.setMeta("declaration", toJsonColumn(declaration));
    this.declaration = declaration;
    return { ok: true, created };
  }

  destroy(): Result<{ removed: number }> {
    if (!this.declaration) return fail("not_found", "Not Found");
    const bounds = this.store.bounds();
    this.ctx.storage.transactionSync(() => this.store.clear());
    this.declaration = null;
    this.wake();
    return { ok: true, removed: bounds.next - bounds.first };
  }

  /**
   * Appends a batch as one chunk (several when it is larger than a row may be), in one
   * transaction. With a producer stamp, a batch whose sequence is not above the producer's last
   * one is a retry: it is not stored again and answers where it was stored.
   */
  append(messages: readonly PublishedMessage[], producer?: ProducerStamp): AppendResult {
    if (!this.declaration) return fail("not_found", "Not Found");
    if (messages.length === 0)
      return { ok: true, base: this.store.nextOffset(), count: 0, duplicate: false };
    if (producer) {
      const last = this.store.producer(producer.id);
      if (last && producer.sequence <= last.sequence) {
        return producer.sequence === last.sequence
          ? { ok: true, base: last.base, count: last.count, duplicate: true }
          : { ok: true, base: -1, count: 0, duplicate: true };
      }
    }
    const now = Date.now();
    const base = this.store.nextOffset();
    this.ctx.storage.transactionSync(() => {
      let start = 0;
      let size = 0;
      messages.forEach((message, i) => {
        const bytes = encodedSize(message);
        if (i > start && size + bytes > STREAM_LIMITS.maxChunkBytes) {
          this.store.append(encodeChunk(messages.slice(start, i)), i - start, now);
          start = i;
          size = 0;
        }
        size += bytes;
      });
      this.store.append(encodeChunk(messages.slice(start)), messages.length - start, now);
      if (producer) {
        this.store.setProducer(producer.id, {
          sequence: producer.sequence,
          base,
          count: messages.length,
        });
      }
    });
    this.scheduleRetention();
    this.wake();
    return { ok: true, base, count: messages.length, duplicate: false };
  }

  /** The exchange fan-out's entry point, shaped like a queue's enqueue. */
  enqueue(messages: readonly PublishedMessage[]): Result<object> {
    const appended = this.append(messages);
    return appended.ok ? { ok: true } : appended;
  }

  /** The offset an offset spec names now (for group resets and `auto.offset.reset`). */
  resolve(spec: OffsetSpec): Result<{ offset: number; bounds: LogBounds }> {
    if (!this.declaration) return fail("not_found", "Not Found");
    const bounds = this.store.bounds();
    const offset = this.offsetOf(spec, bounds);
    if (offset > bounds.next) {
      return fail(
        "bad_request",
        `offset ${offset} is beyond the end of the stream (next offset ${bounds.next})`,
      );
    }
    return { ok: true, offset: Math.max(offset, bounds.first), bounds };
  }

  async read(request: ReadRequest): Promise<ReadResult> {
    const resolved = this.resolve(request.offset);
    if (!resolved.ok) return resolved;
    let from = resolved.offset;
    let messages = this.store.read(from, request.count, request.maxBytes);
    if (messages.length === 0 && request.waitMs > 0) {
      await this.waitForAppend(Math.min(request.waitMs, STREAM_LIMITS.maxFetchWaitMs));
      if (!this.declaration) return fail("not_found", "Not Found");
      // Retention may have moved the start while waiting.
      from = Math.max(from, this.store.bounds().first);
      messages = this.store.read(from, request.count, request.maxBytes);
    }
    const last = messages[messages.length - 1];
    return {
      ok: true,
      messages,
      next: last ? last.offset + 1 : from,
      bounds: this.store.bounds(),
    };
  }

  info(): Result<{ declaration: QueueDeclaration; bounds: LogBounds }> {
    if (!this.declaration) return fail("not_found", "Not Found");
    return { ok: true, declaration: this.declaration, bounds: this.store.bounds() };
  }

  /** The queue listing's figures: a stream's messages are the ones it still stores. */
  stats(): Result<{
    stats: {
      messages: number;
      messages_ready: number;
      messages_unacknowledged: number;
      consumers: number;
      message_bytes: number;
    };
  }> {
    if (!this.declaration) return fail("not_found", "Not Found");
    const bounds = this.store.bounds();
    const messages = bounds.next - bounds.first;
    return {
      ok: true,
      stats: {
        messages,
        messages_ready: messages,
        messages_unacknowledged: 0,
        consumers: 0,
        message_bytes: bounds.bytes,
      },
    };
  }

  override async alarm(): Promise<void> {
    if (!this.declaration) return;
    const retention = retentionOf(this.declaration.arguments);
    this.store.applyRetention(Date.now(), retention.maxAgeMs, retention.maxBytes);
    // Age retention needs another look later even without appends: when the oldest chunk ages out.
    if (retention.maxAgeMs !== null && this.store.bounds().chunks > 1) {
      await this.ctx.storage.setAlarm(
        Date.now() + Math.max(STREAM_LIMITS.retentionCheckMs, retention.maxAgeMs / 10),
      );
    }
  }

  private offsetOf(spec: OffsetSpec, bounds: LogBounds): number {
    if (spec === "first") return bounds.first;
    if (spec === "next") return bounds.next;
    if (spec === "last") return this.store.lastChunkBase() ?? bounds.next;
    if (typeof spec === "number") return spec;
    return this.store.offsetAt(spec.timestamp);
  }

  private scheduleRetention(): void {
    if (!this.declaration) return;
    const retention = retentionOf(this.declaration.arguments);
    if (retention.maxAgeMs === null && retention.maxBytes === null) return;
    // One pending alarm is enough: appends in between are covered by it.
    void this.ctx.storage.getAlarm().then((at) => {
      if (at === null) {
        return this.ctx.storage.setAlarm(Date.now() + STREAM_LIMITS.retentionCheckMs);
      }
    });
  }

  private waitForAppend(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      const self = this;
      function done(): void {
        clearTimeout(timer);
        self.waiters = self.waiters.filter((w) => w !== done);
        resolve();
      }
      this.waiters.push(done);
    });
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const waiter of waiters) waiter();
  }
}

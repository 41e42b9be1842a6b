/**
 * A consumer group member on a WebSocket (`GET /api/groups/{vhost}/{group}/consume`): the
 * connection is the member. After a `join` frame the Worker heartbeats the group coordinator on
 * the member's behalf at the interval it hands out, reads every assigned partition from the
 * committed offset (or `auto_offset_reset`), and follows each new assignment incrementally:
 * revoked partitions stop (their positions committed first when auto-commit is on), new ones
 * start. `commit` frames store offsets; auto-commit stores delivered positions every
 * `auto_commit_interval_ms` and/or `auto_commit_messages`. Closing the socket leaves the group;
 * a member whose Worker vanishes is removed by the session timeout.
 */
import type { Hono } from "hono";
import { frameOperation } from "../access/operations";
import { STREAM_LIMITS } from "../config";
import type { Env } from "../env";
import { topicMetadata } from "../gateway/produce";
import { groupStub } from "../gateway/stubs";
import type { FrameErrorCode } from "../protocol/error-codes";
import {
  parseStreamReaderFrame,
  STREAM_FRAME,
  type StreamReaderFrame,
  type StreamServerFrame,
} from "../protocol/stream-frames";
import { partitionStreamName } from "../protocol/topic";
import { type PartitionRef, partitionKey } from "../streams/assignor";
import { CreditGate } from "../streams/credit-gate";
import type { AppEnv } from "./context";
import { positions } from "./groups";
import { authorize } from "./guards";
import { nameParam } from "./params";
import { PartitionPump } from "./partition-pump";
import { resource } from "./routes";
import { connect } from "./sockets";
import {
  allowedNow,
  holdConnection,
  openSocket,
  type SocketUser,
  sendFrame,
} from "./stream-socket";

type JoinFrame = Extract<StreamReaderFrame, { type: "join" }>;

/** What joining (and reading the assigned partitions) and committing need: read on each topic. */
const JOIN = frameOperation("group", "join");
const COMMIT = frameOperation("group", "commit");

class GroupMemberSession {
  private join: JoinFrame | null = null;
  private memberId: string | undefined;
  private epoch = 0;
  private gate: CreditGate | null = null;
  private readonly pumps = new Map<string, PartitionPump>();
  /** Delivered positions not yet committed (next offset to read per partition). */
  private readonly uncommitted = new Map<string, PartitionRef & { offset: number }>();
  private sinceCommit = 0;
  private timers: ReturnType<typeof setInterval>[] = [];
  private closed = false;
  private beating: Promise<void> = Promise.resolve();

  constructor(
    private readonly socket: WebSocket,
    private readonly env: Env,
    private readonly vhost: string,
    private readonly group: string,
    private readonly user: SocketUser,
  ) {}

  async receive(data: unknown): Promise<void> {
    const parsed = parseStreamReaderFrame(typeof data === "string" ? data : "");
    if (!parsed.ok) {
      this.send({ type: STREAM_FRAME.error, code: parsed.code, reason: parsed.reason });
      return;
    }
    const frame = parsed.frame;
    switch (frame.type) {
      case STREAM_FRAME.join:
        if (this.join) {
          this.send({ type: STREAM_FRAME.error, code: "bad_frame", reason: "already joined" });
          return;
        }
        await this.start(frame);
        return;
      case STREAM_FRAME.credit:
        if (!this.gate) {
          this.send({ type: STREAM_FRAME.error, code: "bad_frame", reason: "credit before join" });
          return;
        }
        this.gate.add(frame.credit);
        return;
      case STREAM_FRAME.commit: {
        if (!this.join) {
          this.send({ type: STREAM_FRAME.error, code: "bad_frame", reason: "commit before join" });
          return;
        }
        let refused: { topic: string } | undefined;
        for (const o of frame.offsets) {
          if (
            !(await allowedNow(this.env, this.user, COMMIT, { vhost: this.vhost, topic: o.topic }))
          ) {
            refused = o;
            break;
          }
        }
        if (refused) {
          this.send({
            type: STREAM_FRAME.error,
            code: "access_refused",
            reason: `read access to topic '${refused.topic}' in vhost '${this.vhost}' refused`,
          });
          return;
        }
        const result = await groupStub(this.env, this.vhost, this.group).commit(
          this.memberId,
          undefined,
          frame.offsets,
        );
        if (result.ok) this.send({ type: STREAM_FRAME.commitOk, offsets: frame.offsets });
        else this.send({ type: STREAM_FRAME.error, code: result.code, reason: result.reason });
        return;
      }
      case STREAM_FRAME.subscribe:
        this.send({
          type: STREAM_FRAME.error,
          code: "bad_frame",
          reason: "a group member joins with a join frame; subscribe is for a single stream",
        });
        return;
      default: {
        const never: never = frame;
        return never;
      }
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const timer of this.timers) clearInterval(timer);
    for (const pump of this.pumps.values()) pump.stop();
    this.gate?.close();
    if (this.memberId === undefined) return;
    if (this.join && this.join.auto_commit_interval_ms > 0) await this.autoCommit();
    await groupStub(this.env, this.vhost, this.group).heartbeat({
      memberId: this.memberId,
      memberEpoch: -1,
      sessionTimeoutMs: this.join?.session_timeout_ms ?? STREAM_LIMITS.defaultSessionTimeoutMs,
    });
  }

  private async start(frame: JoinFrame): Promise<void> {
    for (const topic of frame.topics) {
      if (!(await allowedNow(this.env, this.user, JOIN, { vhost: this.vhost, topic }))) {
        this.fail(
          "access_refused",
          `read access to topic '${topic}' in vhost '${this.vhost}' refused`,
        );
        return;
      }
      const meta = await topicMetadata(this.env, this.vhost, topic);
      if (!meta.ok) {
        this.fail(meta.code, meta.reason);
        return;
      }
    }
    this.join = frame;
    this.gate = new CreditGate(frame.credit);
    try {
      await this.heartbeat();
    } catch (error) {
      this.fail("internal_error", String(error));
      return;
    }
    if (this.closed) return;
    this.timers.push(
      setInterval(() => {
        this.beating = this.beating
          .then(() => this.heartbeat())
          .catch((error: unknown) => this.fail("internal_error", String(error)));
      }, STREAM_LIMITS.heartbeatIntervalMs),
    );
    if (frame.auto_commit_interval_ms > 0) {
      this.timers.push(setInterval(() => void this.autoCommit(), frame.auto_commit_interval_ms));
    }
  }

  private async heartbeat(): Promise<void> {
    const join = this.join;
    if (!join || this.closed) return;
    const topics = [];
    for (const name of join.topics) {
      const meta = await topicMetadata(this.env, this.vhost, name);
      if (meta.ok) topics.push({ name, partitions: meta.topic.partitions });
    }
    const stub = groupStub(this.env, this.vhost, this.group);
    let answer = await stub.heartbeat({
      ...(this.memberId === undefined ? {} : { memberId: this.memberId }),
      memberEpoch: this.epoch,
      topics,
      sessionTimeoutMs: join.session_timeout_ms,
    });
    if (!answer.ok && this.epoch !== 0) {
      // Fenced or timed out: Kafka's consumer drops its partitions and joins again.
      await this.revoke(new Set());
      this.epoch = 0;
      answer = await stub.heartbeat({
        ...(this.memberId === undefined ? {} : { memberId: this.memberId }),
        memberEpoch: 0,
        topics,
        sessionTimeoutMs: join.session_timeout_ms,
      });
    }
    if (this.closed) return;
    if (!answer.ok) {
      this.fail(answer.code, answer.reason);
      return;
    }
    const changed = answer.memberEpoch !== this.epoch || this.memberId === undefined;
    this.memberId = answer.memberId;
    this.epoch = answer.memberEpoch;
    if (!changed) return;
    const assigned = new Set(answer.assignment.map(partitionKey));
    if (await this.revoke(assigned)) {
      // Acknowledge the revocation at once, as Kafka's consumer does, so the new owner need
      // not wait a heartbeat interval.
      this.beating = this.beating.then(() => this.heartbeat());
    }
    const fresh = answer.assignment.filter((ref) => !this.pumps.has(partitionKey(ref)));
    const starts = await positions(this.env, this.vhost, this.group, fresh, join.auto_offset_reset);
    for (const start of starts) this.startPump(start, start.position);
    this.send({
      type: STREAM_FRAME.assignment,
      member_id: answer.memberId,
      member_epoch: answer.memberEpoch,
      partitions: answer.assignment.map((ref) => ({
        ...ref,
        position: this.pumps.get(partitionKey(ref))?.position ?? 0,
      })),
    });
  }

  /** Stops the pumps of partitions no longer assigned, committing their positions first. */
  private async revoke(keep: Set<string>): Promise<boolean> {
    const gone = [...this.pumps].filter(([key]) => !keep.has(key));
    for (const [key, pump] of gone) {
      pump.stop();
      this.pumps.delete(key);
    }
    if (gone.length > 0 && this.join && this.join.auto_commit_interval_ms > 0)
      await this.autoCommit();
    for (const [key] of gone) this.uncommitted.delete(key);
    return gone.length > 0;
  }

  private startPump(ref: PartitionRef, position: number): void {
    const join = this.join as JoinFrame;
    const pump = new PartitionPump(
      this.env,
      { vhost: this.vhost, stream: partitionStreamName(ref.topic, ref.partition), ...ref },
      position,
      this.gate as CreditGate,
      join.encoding,
      {
        send: (frame) => this.send(frame),
        allowed: () =>
          allowedNow(this.env, this.user, JOIN, { vhost: this.vhost, topic: ref.topic }),
        delivered: (_target, next, count) => {
          this.uncommitted.set(partitionKey(ref), { ...ref, offset: next });
          this.sinceCommit += count;
          if (join.auto_commit_messages > 0 && this.sinceCommit >= join.auto_commit_messages) {
            void this.autoCommit();
          }
        },
        failed: (code, reason) => this.fail(code, reason),
      },
    );
    this.pumps.set(partitionKey(ref), pump);
    void pump.run();
  }

  private async autoCommit(): Promise<void> {
    if (this.uncommitted.size === 0 || this.memberId === undefined) return;
    const offsets = [...this.uncommitted.values()];
    this.uncommitted.clear();
    this.sinceCommit = 0;
    const result = await groupStub(this.env, this.vhost, this.group).commit(
      this.memberId,
      undefined,
      offsets,
    );
    if (result.ok) this.send({ type: STREAM_FRAME.commitOk, offsets });
  }

  private send(frame: StreamServerFrame): void {
    if (!this.closed) sendFrame(this.socket, frame);
  }

  private fail(code: FrameErrorCode, reason: string): void {
    this.send({ type: STREAM_FRAME.error, code, reason });
    if (code === "access_refused" || code === "not_found") {
      void this.close();
      try {
        this.socket.close(1008, reason.slice(0, 120));
      } catch {
        // already closed
      }
    }
  }
}

/** Registered before the /api login middleware: upgrades carry their own credentials. */
export function groupSocketRoutes(app: Hono<AppEnv>): void {
  resource(app, "/api/groups/:vhost/:name/consume", {
    GET: async (c) => {
      const vhost = await connect(c);
      const group = nameParam(c, "queue");
      // group.consume: vhost access; join and commit frames check read on the topics they name.
      authorize(c, { vhost });
      const release = await holdConnection(c, vhost);
      const [client, server] = openSocket();
      const session = new GroupMemberSession(server, c.env, vhost, group, c.get("principal"));
      let frames = Promise.resolve();
      server.addEventListener("message", (event) => {
        frames = frames.then(() => session.receive(event.data));
      });
      const closed = () => {
        release();
        c.executionCtx.waitUntil(session.close());
      };
      server.addEventListener("close", closed);
      server.addEventListener("error", closed);
      return new Response(null, { status: 101, webSocket: client });
    },
  });
}

/**
 * A consumer group: one Durable Object per (vhost, group), the group coordinator of Kafka's
 * KIP-848 protocol. Members heartbeat (epoch 0 joins, -1 leaves); the broker computes the target
 * assignment (src/streams/assignor.ts) whenever membership or subscriptions change, bumping the
 * group epoch, and hands each member its partitions incrementally: a partition moving from A to B
 * reaches B only once A has heartbeated after being told to give it up (or left, or timed out),
 * so no partition ever has two owners. A member silent for its session timeout is removed by
 * alarm. Committed offsets (the next offset to read) live here too and survive restarts.
 */
import { DurableObject } from "cloudflare:workers";
import { STREAM_LIMITS } from "../config";
import type { Env } from "../env";
import { fail, type Result } from "../errors";
import {
  type CommittedOffset,
  GROUP_MIGRATIONS,
  GroupStore,
  type Member,
} from "../storage/group-store";
import { migrate } from "../storage/migrations";
import { assignPartitions, type PartitionRef, partitionKey } from "../streams/assignor";

export interface HeartbeatRequest {
  readonly memberId?: string;
  readonly memberEpoch: number;
  /** Subscribed topics with their partition counts (the Worker looks them up). */
  readonly topics?: readonly { name: string; partitions: number }[];
  readonly sessionTimeoutMs: number;
}

export type HeartbeatResult = Result<{
  memberId: string;
  memberEpoch: number;
  heartbeatIntervalMs: number;
  assignment: PartitionRef[];
}>;

export interface GroupMemberView {
  readonly member_id: string;
  readonly member_epoch: number;
  readonly topics: string[];
  readonly assignment: PartitionRef[];
  readonly target_assignment: PartitionRef[];
  readonly session_timeout_ms: number;
  readonly last_heartbeat: number;
}

export type DescribeResult = Result<{
  groupEpoch: number;
  members: GroupMemberView[];
  offsets: CommittedOffset[];
  topics: { name: string; partitions: number }[];
}>;

const byPartition = (a: PartitionRef, b: PartitionRef): number =>
  a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : a.partition - b.partition;

const unknownMember = (id: string) =>
  fail("not_found", `unknown member '${id}' in the group: join again with member_epoch 0`);

export class GroupObject extends DurableObject<Env> {
  private readonly store: GroupStore;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    migrate(ctx.storage, GROUP_MIGRATIONS);
    this.store = new GroupStore(ctx.storage.sql);
  }

  async heartbeat(request: HeartbeatRequest): Promise<HeartbeatResult> {
    const now = Date.now();
    let members = this.expire(this.store.members(), now);
    let changed = members.length !== this.store.members().length;
    const find = (id: string | undefined) => members.find((m) => m.id === id);

    if (request.memberEpoch === -1) {
      const leaving = find(request.memberId);
      if (!leaving) return unknownMember(request.memberId ?? "");
      members = members.filter((m) => m !== leaving);
      this.store.deleteMember(leaving.id);
      this.rebalance(members);
      this.persist(members);
      return {
        ok: true,
        memberId: leaving.id,
        memberEpoch: -1,
        heartbeatIntervalMs: STREAM_LIMITS.heartbeatIntervalMs,
        assignment: [],
      };
    }

    let member = find(request.memberId);
    if (request.memberEpoch === 0) {
      if (!request.topics) return fail("bad_request", "a joining member must name its topics");
      if (!member && members.length >= STREAM_LIMITS.maxGroupMembers) {
        return fail("bad_request", `the group has ${members.length} members, the most it may have`);
      }
      if (!member) {
        member = {
          id: request.memberId ?? crypto.randomUUID(),
          epoch: 0,
          topics: [],
          sessionMs: request.sessionTimeoutMs,
          lastSeen: now,
          target: [],
          current: [],
          sent: [],
          joined: now,
        };
        members.push(member);
      }
      changed = true;
    } else if (!member) {
      return unknownMember(request.memberId ?? "");
    } else if (request.memberEpoch !== member.epoch) {
      return fail(
        "bad_request",
        `fenced member epoch: member '${member.id}' sent epoch ${request.memberEpoch}, its epoch is ${member.epoch}; join again with member_epoch 0`,
      );
    }
    member.lastSeen = now;
    member.sessionMs = request.sessionTimeoutMs;
    if (request.topics) {
      const names = [...new Set(request.topics.map((t) => t.name))].sort();
      if (JSON.stringify(names) !== JSON.stringify(member.topics)) changed = true;
      member.topics = names;
      const known = this.store.topics();
      for (const topic of request.topics) {
        if (known.get(topic.name) !== topic.partitions) {
          this.store.setTopic(topic.name, topic.partitions);
          changed = true;
        }
      }
    }
    this.store.markCreated(now);
    if (changed) this.rebalance(members);

    // The member heartbeated after its last answer, so it has let go of what that answer no
    // longer listed (KIP-848: a revoked partition is free once the member acknowledges).
    const sentKeys = new Set(member.sent.map(partitionKey));
    member.current = member.current.filter((p) => sentKeys.has(partitionKey(p)));
    const target = new Set(member.target.map(partitionKey));
    const ownedElsewhere = new Set(
      members.filter((m) => m !== member).flatMap((m) => m.current.map(partitionKey)),
    );
    const tell = member.current.filter((p) => target.has(partitionKey(p)));
    const telling = new Set(tell.map(partitionKey));
    for (const p of member.target) {
      const key = partitionKey(p);
      if (!telling.has(key) && !ownedElsewhere.has(key)) {
        tell.push(p);
        telling.add(key);
        member.current.push(p);
      }
    }
    tell.sort(byPartition);
    const previous = JSON.stringify([...member.sent].sort(byPartition));
    if (JSON.stringify(tell) !== previous || request.memberEpoch === 0) {
      member.epoch = Math.max(this.store.groupEpoch(), member.epoch + 1);
    }
    member.sent = tell;
    this.persist(members);
    await this.scheduleExpiry(members);
    return {
      ok: true,
      memberId: member.id,
      memberEpoch: member.epoch,
      heartbeatIntervalMs: STREAM_LIMITS.heartbeatIntervalMs,
      assignment: member.sent,
    };
  }

  /**
   * Stores committed offsets. A member commits with its id and epoch; without a member id the
   * commit is an administrative one, allowed only while the group has no members (Kafka refuses
   * to reset an active group's offsets too).
   */
  commit(
    memberId: string | undefined,
    memberEpoch: number | undefined,
    offsets: readonly { topic: string; partition: number; offset: number }[],
  ): Result<object> {
    const now = Date.now();
    const members = this.expire(this.store.members(), now);
    if (memberId === undefined) {
      if (members.length > 0) {
        return fail(
          "bad_request",
          `the group has ${members.length} active members: stop them before setting its offsets`,
        );
      }
    } else {
      const member = members.find((m) => m.id === memberId);
      if (!member) return unknownMember(memberId);
      if (memberEpoch !== undefined && memberEpoch !== member.epoch) {
        return fail(
          "bad_request",
          `stale member epoch ${memberEpoch} for member '${memberId}' (current ${member.epoch})`,
        );
      }
    }
    this.ctx.storage.transactionSync(() => {
      this.store.markCreated(now);
      for (const o of offsets) this.store.commit(o.topic, o.partition, o.offset, now);
    });
    return { ok: true };
  }

  describe(): DescribeResult {
    if (!this.store.exists()) return fail("not_found", "unknown consumer group");
    const members = this.expire(this.store.members(), Date.now());
    return {
      ok: true,
      groupEpoch: this.store.groupEpoch(),
      members: members.map((m) => ({
        member_id: m.id,
        member_epoch: m.epoch,
        topics: m.topics,
        assignment: m.sent,
        target_assignment: m.target,
        session_timeout_ms: m.sessionMs,
        last_heartbeat: m.lastSeen,
      })),
      offsets: this.store.offsets(),
      topics: [...this.store.topics()].map(([name, partitions]) => ({ name, partitions })),
    };
  }

  committed(): Result<{ offsets: CommittedOffset[] }> {
    return { ok: true, offsets: this.store.offsets() };
  }

  override async alarm(): Promise<void> {
    const members = this.expire(this.store.members(), Date.now());
    await this.scheduleExpiry(members);
  }

  /** Drops members whose session timed out, rebalancing the rest; answers who is left. */
  private expire(members: Member[], now: number): Member[] {
    const alive = members.filter((m) => m.lastSeen + m.sessionMs >= now);
    if (alive.length !== members.length) {
      for (const m of members) if (!alive.includes(m)) this.store.deleteMember(m.id);
      this.rebalance(alive);
      this.persist(alive);
    }
    return alive;
  }

  /** A new target assignment and group epoch. */
  private rebalance(members: Member[]): void {
    const epoch = this.store.groupEpoch() + 1;
    this.store.setGroupEpoch(epoch);
    const subscribed = new Set(members.flatMap((m) => m.topics));
    const topics = new Map([...this.store.topics()].filter(([name]) => subscribed.has(name)));
    const target = assignPartitions(
      members,
      topics,
      new Map(members.map((m) => [m.id, m.current])),
    );
    for (const m of members) m.target = target.get(m.id) ?? [];
  }

  private persist(members: readonly Member[]): void {
    for (const m of members) this.store.putMember(m);
  }

  private async scheduleExpiry(members: readonly Member[]): Promise<void> {
    if (members.length === 0) return;
    const next = Math.min(...members.map((m) => m.lastSeen + m.sessionMs)) + 1;
    const current = await this.ctx.storage.getAlarm();
    if (current === null || current > next) await this.ctx.storage.setAlarm(next);
  }
}

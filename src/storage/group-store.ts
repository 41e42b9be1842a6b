/**
 * A consumer group's state in SQLite: members with their epochs, subscriptions, session
 * deadlines, target and current assignments; the partition counts of subscribed topics; and the
 * committed offsets (the next offset to read, as Kafka commits them).
 */
import type { PartitionRef } from "../streams/assignor";
import { fromJsonColumn, toJsonColumn } from "./json-column";
import { MetaStore } from "./meta-store";
import type { Migration } from "./migrations";

export const GROUP_MIGRATIONS: readonly Migration[] = [
  [
    "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    `CREATE TABLE members (
      id TEXT PRIMARY KEY,
      epoch INTEGER NOT NULL,
      topics TEXT NOT NULL,
      session_ms INTEGER NOT NULL,
      last_seen INTEGER NOT NULL,
      target TEXT NOT NULL,
      current TEXT NOT NULL,
      sent TEXT NOT NULL,
      joined INTEGER NOT NULL
    )`,
    "CREATE TABLE topics (name TEXT PRIMARY KEY, partitions INTEGER NOT NULL)",
    `CREATE TABLE offsets (
      topic TEXT NOT NULL,
      partition INTEGER NOT NULL,
      offset INTEGER NOT NULL,
      committed_at INTEGER NOT NULL,
      PRIMARY KEY (topic, partition)
    )`,
  ],
];

export interface Member {
  readonly id: string;
  epoch: number;
  topics: string[];
  sessionMs: number;
  lastSeen: number;
  target: PartitionRef[];
  /** What the broker may consider the member to own: granted, revocations not yet acknowledged. */
  current: PartitionRef[];
  /** The assignment in the member's last answer. */
  sent: PartitionRef[];
  readonly joined: number;
}

interface MemberRow extends Record<string, SqlStorageValue> {
  id: string;
  epoch: number;
  topics: string;
  session_ms: number;
  last_seen: number;
  target: string;
  current: string;
  sent: string;
  joined: number;
}

export interface CommittedOffset {
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
  readonly committed_at: number;
}

export class GroupStore extends MetaStore {
  groupEpoch(): number {
    return Number(this.getMeta("group_epoch") ?? "0");
  }

  setGroupEpoch(epoch: number): void {
    this.setMeta("group_epoch", String(epoch));
  }

  exists(): boolean {
    return this.getMeta("created") !== undefined;
  }

  markCreated(now: number): void {
    if (!this.exists()) this.setMeta("created", String(now));
  }

  members(): Member[] {
    return this.sql.all<MemberRow>("SELECT * FROM members ORDER BY joined, id").map((row) => ({
      id: row.id,
      epoch: row.epoch,
      topics: fromJsonColumn<string[]>(row.topics, []),
      sessionMs: row.session_ms,
      lastSeen: row.last_seen,
      target: fromJsonColumn<PartitionRef[]>(row.target, []),
      current: fromJsonColumn<PartitionRef[]>(row.current, []),
      sent: fromJsonColumn<PartitionRef[]>(row.sent, []),
      joined: row.joined,
    }));
  }

  putMember(member: Member): void {
    this.sql.run(
      `INSERT INTO members (id, epoch, topics, session_ms, last_seen, target, current, sent, joined)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT(id) DO UPDATE SET epoch = excluded.epoch, topics = excluded.topics,
         session_ms = excluded.session_ms, last_seen = excluded.last_seen,
         target = excluded.target, current = excluded.current, sent = excluded.sent`,
      member.id,
      member.epoch,
      toJsonColumn(member.topics),
      member.sessionMs,
      member.lastSeen,
      toJsonColumn(member.target),
      toJsonColumn(member.current),
      toJsonColumn(member.sent),
      member.joined,
    );
  }

  deleteMember(id: string): void {
    this.sql.run("DELETE FROM members WHERE id = ?", id);
  }

  topics(): Map<string, number> {
    return new Map(
      this.sql
        .all<{ name: string; partitions: number }>("SELECT name, partitions FROM topics")
        .map((row) => [row.name, row.partitions]),
    );
  }

  setTopic(name: string, partitions: number): void {
    this.sql.run(
      "INSERT INTO topics (name, partitions) VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET partitions = excluded.partitions",
      name,
      partitions,
    );
  }

  offsets(): CommittedOffset[] {
    return this.sql.all<{ topic: string; partition: number; offset: number; committed_at: number }>(
      "SELECT topic, partition, offset, committed_at FROM offsets ORDER BY topic, partition",
    );
  }

  commit(topic: string, partition: number, offset: number, now: number): void {
    this.sql.run(
      "INSERT INTO offsets (topic, partition, offset, committed_at) VALUES (?, ?, ?, ?) ON CONFLICT(topic, partition) DO UPDATE SET offset = excluded.offset, committed_at = excluded.committed_at",
      topic,
      partition,
      offset,
      now,
    );
  }
}

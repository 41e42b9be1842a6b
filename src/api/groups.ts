/**
 * Consumer groups over HTTP (Kafka's KIP-848 protocol, server-side assignment):
 * `POST /api/groups/{vhost}/{group}/heartbeat` joins (epoch 0), heartbeats and leaves (epoch -1)
 * and answers the member's partitions with where to read each (the committed offset, or
 * `auto_offset_reset` for a partition the group never committed); `POST .../commit` stores
 * offsets; `GET .../{group}` describes members, offsets and lag; `GET .../offsets` lists offsets
 * and lag; `POST .../offsets/reset` moves them to earliest, latest, an offset or a timestamp.
 * Joining, committing and resetting need read on each topic.
 */
import type { Hono } from "hono";
import type { Env } from "../env";
import { BrokerError, unwrap } from "../errors";
import { topicMetadata } from "../gateway/produce";
import { groupStub, streamStub } from "../gateway/stubs";
import type { OffsetSpec } from "../protocol/stream";
import {
  commitBodySchema,
  heartbeatBodySchema,
  partitionStreamName,
  resetBodySchema,
  type TopicDeclaration,
} from "../protocol/topic";
import type { CommittedOffset } from "../storage/group-store";
import type { PartitionRef } from "../streams/assignor";
import { parseBody } from "./body";
import type { AppContext, AppEnv } from "./context";
import { authorize } from "./guards";
import { nameParam, vhostParam } from "./params";
import { resource } from "./routes";

async function topicsOf(
  c: AppContext,
  vhost: string,
  names: readonly string[],
): Promise<TopicDeclaration[]> {
  return Promise.all(
    [...new Set(names)].map(async (name) => {
      authorize(c, { vhost, topic: name });
      return unwrap(await topicMetadata(c.env, vhost, name)).topic;
    }),
  );
}

/** The offset an offset spec names on one partition now. */
async function resolveOffset(
  env: Env,
  vhost: string,
  ref: PartitionRef,
  spec: OffsetSpec,
): Promise<number> {
  const stream = streamStub(env, vhost, partitionStreamName(ref.topic, ref.partition));
  return unwrap(await stream.resolve(spec)).offset;
}

/** Where a member starts on each assigned partition: committed, else auto.offset.reset. */
export async function positions(
  env: Env,
  vhost: string,
  group: string,
  assignment: readonly PartitionRef[],
  reset: "earliest" | "latest",
): Promise<(PartitionRef & { committed_offset: number | null; position: number })[]> {
  if (assignment.length === 0) return [];
  const { offsets } = unwrap(await groupStub(env, vhost, group).committed());
  const committed = new Map(offsets.map((o) => [`${o.topic}\u0000${o.partition}`, o.offset]));
  return Promise.all(
    assignment.map(async (ref) => {
      const offset = committed.get(`${ref.topic}\u0000${ref.partition}`) ?? null;
      const position =
        offset ?? (await resolveOffset(env, vhost, ref, reset === "earliest" ? "first" : "next"));
      return { ...ref, committed_offset: offset, position };
    }),
  );
}

/** Offsets with each partition's end and the lag behind it. */
async function withLag(c: AppContext, vhost: string, offsets: readonly CommittedOffset[]) {
  return Promise.all(
    offsets.map(async (o) => {
      const info = await streamStub(c.env, vhost, partitionStreamName(o.topic, o.partition)).info();
      const end = info.ok ? info.bounds.next : o.offset;
      return {
        topic: o.topic,
        partition: o.partition,
        committed_offset: o.offset,
        log_end_offset: end,
        lag: Math.max(0, end - o.offset),
        committed_at: o.committed_at,
      };
    }),
  );
}

function checkPartitions(topics: readonly TopicDeclaration[], refs: readonly PartitionRef[]): void {
  const counts = new Map(topics.map((t) => [t.name, t.partitions]));
  for (const ref of refs) {
    const count = counts.get(ref.topic) ?? 0;
    if (ref.partition >= count) {
      throw new BrokerError(
        "bad_request",
        `partition ${ref.partition} is out of range (topic '${ref.topic}' has ${count} partitions)`,
      );
    }
  }
}

export function groupRoutes(app: Hono<AppEnv>): void {
  resource(app, "/api/groups/:vhost/:name/heartbeat", {
    POST: async (c) => {
      const vhost = vhostParam(c);
      const group = nameParam(c, "queue");
      const body = await parseBody(c, heartbeatBodySchema);
      const topics = body.topics ? await topicsOf(c, vhost, body.topics) : undefined;
      const answer = unwrap(
        await groupStub(c.env, vhost, group).heartbeat({
          ...(body.member_id === undefined ? {} : { memberId: body.member_id }),
          memberEpoch: body.member_epoch,
          ...(topics
            ? { topics: topics.map((t) => ({ name: t.name, partitions: t.partitions })) }
            : {}),
          sessionTimeoutMs: body.session_timeout_ms,
        }),
      );
      return c.json({
        member_id: answer.memberId,
        member_epoch: answer.memberEpoch,
        heartbeat_interval_ms: answer.heartbeatIntervalMs,
        assignment: await positions(c.env, vhost, group, answer.assignment, body.auto_offset_reset),
      });
    },
  });

  resource(app, "/api/groups/:vhost/:name/commit", {
    POST: async (c) => {
      const vhost = vhostParam(c);
      const group = nameParam(c, "queue");
      const body = await parseBody(c, commitBodySchema);
      const topics = await topicsOf(
        c,
        vhost,
        body.offsets.map((o) => o.topic),
      );
      checkPartitions(topics, body.offsets);
      unwrap(
        await groupStub(c.env, vhost, group).commit(
          body.member_id,
          body.member_epoch,
          body.offsets,
        ),
      );
      return c.body(null, 204);
    },
  });

  resource(app, "/api/groups/:vhost/:name", {
    GET: async (c) => {
      const vhost = vhostParam(c);
      const group = nameParam(c, "queue");
      const described = unwrap(await groupStub(c.env, vhost, group).describe());
      await topicsOf(
        c,
        vhost,
        described.offsets.map((o) => o.topic),
      );
      const offsets = await withLag(c, vhost, described.offsets);
      return c.json({
        name: group,
        vhost,
        state: described.members.length > 0 ? "stable" : "empty",
        group_epoch: described.groupEpoch,
        members: described.members,
        offsets,
        lag: offsets.reduce((sum, o) => sum + o.lag, 0),
      });
    },
  });

  resource(app, "/api/groups/:vhost/:name/offsets", {
    GET: async (c) => {
      const vhost = vhostParam(c);
      const group = nameParam(c, "queue");
      const described = unwrap(await groupStub(c.env, vhost, group).describe());
      await topicsOf(
        c,
        vhost,
        described.offsets.map((o) => o.topic),
      );
      return c.json(await withLag(c, vhost, described.offsets));
    },
  });

  resource(app, "/api/groups/:vhost/:name/offsets/reset", {
    POST: async (c) => {
      const vhost = vhostParam(c);
      const group = nameParam(c, "queue");
      const body = await parseBody(c, resetBodySchema);
      const [topic] = await topicsOf(c, vhost, [body.topic]);
      const count = (topic as TopicDeclaration).partitions;
      const partitions = body.partitions ?? Array.from({ length: count }, (_, i) => i);
      const refs = partitions.map((partition) => ({ topic: body.topic, partition }));
      checkPartitions([topic as TopicDeclaration], refs);
      const spec: OffsetSpec =
        body.to === "earliest" ? "first" : body.to === "latest" ? "next" : body.to;
      const offsets = await Promise.all(
        refs.map(async (ref) => ({ ...ref, offset: await resolveOffset(c.env, vhost, ref, spec) })),
      );
      unwrap(await groupStub(c.env, vhost, group).commit(undefined, undefined, offsets));
      return c.json({ offsets });
    },
  });
}

/**
 * Server-side partition assignment for consumer groups, as KIP-848's uniform assignor does it:
 * every member subscribed to a topic gets floor(N/M) or floor(N/M)+1 of its partitions, each
 * partition has one owner, and a rebalance keeps as many partitions where they are as the
 * balance allows (sticky), so a join or a leave moves only what it must.
 */
export interface PartitionRef {
  readonly topic: string;
  readonly partition: number;
}

export interface MemberSubscription {
  readonly id: string;
  readonly topics: readonly string[];
}

export const partitionKey = (p: PartitionRef): string => `${p.topic}\u0000${p.partition}`;

export function assignPartitions(
  members: readonly MemberSubscription[],
  topics: ReadonlyMap<string, number>,
  current: ReadonlyMap<string, readonly PartitionRef[]>,
): Map<string, PartitionRef[]> {
  const target = new Map<string, PartitionRef[]>(members.map((m) => [m.id, []]));
  for (const [topic, count] of [...topics].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    const eligible = members
      .filter((m) => m.topics.includes(topic))
      .map((m) => m.id)
      .sort();
    if (eligible.length === 0 || count === 0) continue;
    const owned = new Map<string, number[]>(
      eligible.map((id) => [
        id,
        (current.get(id) ?? [])
          .filter((p) => p.topic === topic && p.partition < count)
          .map((p) => p.partition)
          .sort((a, b) => a - b),
      ]),
    );
    const base = Math.floor(count / eligible.length);
    const extra = count % eligible.length;
    // Members that already hold the most keep the larger quotas: fewer partitions move.
    const byHolding = [...eligible].sort(
      (a, b) => (owned.get(b)?.length ?? 0) - (owned.get(a)?.length ?? 0) || (a < b ? -1 : 1),
    );
    const quota = new Map(byHolding.map((id, i) => [id, base + (i < extra ? 1 : 0)]));
    const taken = new Set<number>();
    const kept = new Map<string, number[]>();
    for (const id of eligible) {
      const keep = (owned.get(id) ?? []).filter((p) => !taken.has(p)).slice(0, quota.get(id) ?? 0);
      for (const p of keep) taken.add(p);
      kept.set(id, keep);
    }
    const pool: number[] = [];
    for (let p = 0; p < count; p++) if (!taken.has(p)) pool.push(p);
    for (const id of eligible) {
      const mine = kept.get(id) ?? [];
      while (mine.length < (quota.get(id) ?? 0) && pool.length > 0) {
        mine.push(pool.shift() as number);
      }
      const list = target.get(id) ?? [];
      for (const partition of mine.sort((a, b) => a - b)) list.push({ topic, partition });
      target.set(id, list);
    }
  }
  return target;
}

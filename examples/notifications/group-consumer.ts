/**
 * The article's consumer (cmd/consumer/consumer.go) as a consumer group on the broker's
 * `notifications` topic: the group `notifications-group` with two members that split the topic's
 * partitions (assigned by the broker), print each notification, and commit what they processed.
 * After a while member-1 stops, and member-2 takes over its partitions from the committed
 * offsets: no notification is lost, none is read twice.
 *
 *   npm run example:group-consumer -- [--send N] [--stop-after MS] [--run MS]
 *
 * --send N sends N notifications through POST /send first (Bruno to Emma, Lena to Rick, ...).
 * BROKER_URL overrides the broker (default http://guest:guest@localhost:8787/%2F).
 */
const url = new URL(process.env.BROKER_URL ?? "http://guest:guest@localhost:8787/%2F");
const auth = `Basic ${btoa(`${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}`)}`;
const base = url.origin;
const vhost = url.pathname.slice(1) || "%2F";
const group = "notifications-group";
const topic = "notifications";

const flag = (name: string, fallback: number): number => {
  const at = process.argv.indexOf(name);
  return at >= 0 ? Number(process.argv[at + 1]) : fallback;
};

interface Assigned {
  topic: string;
  partition: number;
  position: number;
}

async function api<T>(path: string, body: unknown): Promise<T> {
  const response = await fetch(`${base}/api/${path}`, {
    method: "POST",
    headers: { Authorization: auth, "Content-Type": "application/json" },
    body: JSON.stringify(body),
  });
  if (!response.ok) throw new Error(`${path}: ${response.status} ${await response.text()}`);
  return (response.status === 204 ? undefined : await response.json()) as T;
}

/** One member: the KIP-848 loop (heartbeat, read the assigned partitions, commit). */
class GroupMember {
  private id: string | undefined;
  private epoch = 0;
  private positions = new Map<number, number>();
  private stopped = false;

  readonly name: string;

  constructor(name: string) {
    this.name = name;
  }

  async run(): Promise<void> {
    let nextBeat = 0;
    while (!this.stopped) {
      if (Date.now() >= nextBeat) nextBeat = Date.now() + (await this.heartbeat());
      for (const [partition, position] of this.positions) {
        const answer = await api<{
          messages: { key: string; payload: string }[];
          next_offset: number;
        }>(`topics/${vhost}/${topic}/partitions/${partition}/fetch`, {
          offset: position,
          count: 100,
        });
        for (const message of answer.messages) {
          const n = JSON.parse(message.payload) as {
            from?: { name: string };
            to?: { name: string };
            message: string;
          };
          console.log(
            `[${this.name}] partition ${partition}: ${n.from?.name ?? "?"} -> ${n.to?.name ?? `user ${message.key}`}: ${n.message}`,
          );
        }
        if (answer.next_offset !== position && this.positions.has(partition)) {
          this.positions.set(partition, answer.next_offset);
          await api(`groups/${vhost}/${group}/commit`, {
            member_id: this.id,
            member_epoch: this.epoch,
            offsets: [{ topic, partition, offset: answer.next_offset }],
          });
        }
      }
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }

  private async heartbeat(): Promise<number> {
    const answer = await api<{
      member_id: string;
      member_epoch: number;
      heartbeat_interval_ms: number;
      assignment: Assigned[];
    }>(`groups/${vhost}/${group}/heartbeat`, {
      ...(this.id ? { member_id: this.id } : {}),
      member_epoch: this.epoch,
      ...(this.epoch === 0 ? { topics: [topic] } : {}),
      session_timeout_ms: 10_000,
      auto_offset_reset: "earliest",
    });
    const before = [...this.positions.keys()].sort().join(",");
    this.id = answer.member_id;
    this.epoch = answer.member_epoch;
    const next = new Map<number, number>();
    for (const a of answer.assignment)
      next.set(a.partition, this.positions.get(a.partition) ?? a.position);
    this.positions = next;
    const after = [...next.keys()].sort().join(",");
    if (before !== after)
      console.log(`[${this.name}] partitions: [${after}] (epoch ${this.epoch})`);
    return answer.heartbeat_interval_ms;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await api(`groups/${vhost}/${group}/heartbeat`, { member_id: this.id, member_epoch: -1 });
    console.log(`[${this.name}] left the group`);
  }
}

const senders: [number, number, string][] = [
  [2, 1, "Bruno started following you."],
  [1, 2, "Emma mentioned you in a comment"],
  [4, 1, "Lena liked your post: 'My weekend getaway!'"],
  [3, 4, "Rick shared your photo"],
];
async function send(from: number, n: number): Promise<void> {
  for (let i = from; i < from + n; i++) {
    const [from, to, message] = senders[i % senders.length] as [number, number, string];
    const response = await fetch(`${base}/send`, {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: `fromID=${from}&toID=${to}&message=${encodeURIComponent(`${message} #${i + 1}`)}`,
    });
    if (!response.ok) throw new Error(`send: ${response.status} ${await response.text()}`);
  }
}

// The topic POST /send appends to (it creates it too, on the first send).
const declared = await fetch(`${base}/api/topics/${vhost}/${topic}`, {
  method: "PUT",
  headers: { Authorization: auth, "Content-Type": "application/json" },
  body: JSON.stringify({ partitions: 4, arguments: { "x-max-age": "7D" } }),
});
if (!declared.ok) throw new Error(`declare topic: ${declared.status} ${await declared.text()}`);
const count = flag("--send", 0);
const one = new GroupMember("member-1");
const two = new GroupMember("member-2");
const running = [one.run(), two.run()];
await send(0, count);
setTimeout(
  async () => {
    await one.stop();
    // Sent after member-1 left: member-2 reads them from every partition.
    await send(count, count);
  },
  flag("--stop-after", 5000),
);
setTimeout(
  async () => {
    await two.stop();
    await Promise.all(running);
    process.exit(0);
  },
  flag("--run", 10_000),
);

export {};

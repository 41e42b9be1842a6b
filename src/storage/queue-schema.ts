/** The queue object's schema, one entry per version (see migrations.ts). */
import type { Migration } from "./migrations";

export const QUEUE_MIGRATIONS: readonly Migration[] = [
  [
    "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    `CREATE TABLE messages (
      seq INTEGER PRIMARY KEY AUTOINCREMENT,
      exchange TEXT NOT NULL,
      routing_key TEXT NOT NULL,
      properties TEXT NOT NULL,
      body BLOB NOT NULL,
      redelivered INTEGER NOT NULL DEFAULT 0,
      delivery_count INTEGER NOT NULL DEFAULT 0
    )`,
  ],
  [
    // Deliveries: `owner` is NULL for a ready message, "c:<connection>" for a message delivered
    // to a WebSocket consumer and not yet acknowledged, "l:<lease>" for a pulled message.
    // `deadline` is the ack deadline or lease expiry; `available_at` delays a requeued message.
    "ALTER TABLE messages ADD COLUMN owner TEXT",
    "ALTER TABLE messages ADD COLUMN consumer_tag TEXT",
    "ALTER TABLE messages ADD COLUMN delivery_tag INTEGER",
    "ALTER TABLE messages ADD COLUMN deadline INTEGER",
    "ALTER TABLE messages ADD COLUMN available_at INTEGER NOT NULL DEFAULT 0",
    "CREATE INDEX messages_ready ON messages (seq) WHERE owner IS NULL",
    "CREATE INDEX messages_owned ON messages (owner, delivery_tag) WHERE owner IS NOT NULL",
    "CREATE INDEX messages_deadline ON messages (deadline) WHERE owner IS NOT NULL",
    `CREATE TABLE consumers (
      connection TEXT NOT NULL,
      tag TEXT NOT NULL,
      prefetch INTEGER NOT NULL,
      auto_ack INTEGER NOT NULL,
      exclusive INTEGER NOT NULL,
      ack_timeout_ms INTEGER NOT NULL,
      registered INTEGER NOT NULL,
      PRIMARY KEY (connection, tag)
    )`,
    "CREATE TABLE connections (connection TEXT PRIMARY KEY, next_delivery_tag INTEGER NOT NULL)",
  ],
  [
    // Delayed (nacked with a delay) ready messages, so the next wake-up is found without a scan.
    "CREATE INDEX messages_delayed ON messages (available_at) WHERE owner IS NULL AND available_at > 0",
  ],
  [
    // A consumer that asked for batched deliver frames (docs/websocket-protocol.md).
    "ALTER TABLE consumers ADD COLUMN batch INTEGER NOT NULL DEFAULT 0",
  ],
  [
    // Message TTL (x-message-ttl, the expiration property): when a ready message expires,
    // indexed so expiry anywhere in the queue is found without a scan (docs/queue-features.md).
    "ALTER TABLE messages ADD COLUMN expires_at INTEGER",
    "CREATE INDEX messages_expiry ON messages (expires_at) WHERE owner IS NULL AND expires_at IS NOT NULL",
  ],
  [
    // Priority queues (x-max-priority): a ready message's priority, capped at the queue's
    // maximum; such a queue hands out by priority, then in order (docs/queue-features.md).
    "ALTER TABLE messages ADD COLUMN priority INTEGER NOT NULL DEFAULT 0",
    "CREATE INDEX messages_ready_priority ON messages (priority DESC, seq) WHERE owner IS NULL",
  ],
  [
    // The priority index moves to priority queues only (built lazily by MessageStore): a plain
    // queue kept it up to date on every insert, dispatch and ack without ever reading it.
    "DROP INDEX IF EXISTS messages_ready_priority",
  ],
];

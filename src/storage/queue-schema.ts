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
];

/** The exchange object's schema, one entry per version (see migrations.ts). */
import type { Migration } from "./migrations";

export const EXCHANGE_MIGRATIONS: readonly Migration[] = [
  [
    "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    `CREATE TABLE bindings (
      id TEXT PRIMARY KEY,
      kind TEXT NOT NULL,
      destination TEXT NOT NULL,
      routing_key TEXT NOT NULL,
      arguments TEXT NOT NULL
    )`,
  ],
  // Messages a delayed exchange holds (x-delayed-message), released in (release_at, seq) order.
  [
    `CREATE TABLE delayed (
      seq INTEGER PRIMARY KEY AUTOINCREMENT,
      release_at INTEGER NOT NULL,
      exchange TEXT NOT NULL,
      routing_key TEXT NOT NULL,
      properties TEXT NOT NULL,
      body BLOB NOT NULL
    )`,
    "CREATE INDEX delayed_release ON delayed (release_at, seq)",
  ],
];

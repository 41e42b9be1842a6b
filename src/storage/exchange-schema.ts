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
];

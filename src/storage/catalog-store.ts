/**
 * The per-vhost catalog's tables: the declarations of every exchange and queue in the vhost and
 * every binding, as the management API lists them. Typed SQL helpers; no network, no policy.
 */
import { type Binding, type DestinationType, toDestinationType } from "../protocol/bindings";
import type { ExchangeDeclaration, QueueDeclaration } from "../protocol/declarations";
import type { NotificationUser } from "../protocol/notification";
import { fromJsonColumn, toJsonColumn } from "./json-column";
import { MetaStore } from "./meta-store";
import type { Migration } from "./migrations";

export const CATALOG_MIGRATIONS: readonly Migration[] = [
  [
    "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    "CREATE TABLE exchanges (name TEXT PRIMARY KEY, declaration TEXT NOT NULL)",
    "CREATE TABLE queues (name TEXT PRIMARY KEY, declaration TEXT NOT NULL)",
    `CREATE TABLE bindings (
      source TEXT NOT NULL,
      destination_type TEXT NOT NULL,
      destination TEXT NOT NULL,
      routing_key TEXT NOT NULL,
      arguments TEXT NOT NULL,
      properties_key TEXT NOT NULL,
      PRIMARY KEY (source, destination_type, destination, properties_key)
    )`,
    "CREATE INDEX bindings_by_destination ON bindings (destination_type, destination)",
  ],
  [
    // Open WebSocket connections, for the vhost's max-connections limit. `holder` is the queue
    // whose object holds a consumer connection, or "" for a producer connection (in a Worker),
    // which refreshes `seen` while it lives.
    `CREATE TABLE connections (
      id TEXT PRIMARY KEY,
      holder TEXT NOT NULL,
      seen INTEGER NOT NULL
    )`,
  ],
  // Issue 5: the notification app's users, one inbox each (docs/notifications.md).
  ["CREATE TABLE inboxes (id INTEGER PRIMARY KEY, name TEXT NOT NULL)"],
  // Issue 13: who opened each connection, from where and when, for /api/connections; `closing`
  // asks a producer connection's Worker to close it at its next heartbeat.
  [
    "ALTER TABLE connections ADD COLUMN user TEXT NOT NULL DEFAULT ''",
    "ALTER TABLE connections ADD COLUMN peer TEXT NOT NULL DEFAULT ''",
    "ALTER TABLE connections ADD COLUMN opened INTEGER NOT NULL DEFAULT 0",
    "ALTER TABLE connections ADD COLUMN closing INTEGER NOT NULL DEFAULT 0",
  ],
  // Issue 14: each queue's latest report of its counts (src/queue/queue-report.ts), kept so a
  // restarted catalog does not show zeros for queues too idle to report again.
  ["CREATE TABLE queue_reports (name TEXT PRIMARY KEY, report TEXT NOT NULL, at INTEGER NOT NULL)"],
];

interface BindingRow extends Record<string, SqlStorageValue> {
  source: string;
  destination_type: string;
  destination: string;
  routing_key: string;
  arguments: string;
  properties_key: string;
}

export interface BindingFilter {
  readonly source?: string;
  readonly destinationType?: DestinationType;
  readonly destination?: string;
  readonly propertiesKey?: string;
}

export class CatalogStore extends MetaStore {
  getExchange(name: string): ExchangeDeclaration | undefined {
    const row = this.sql.first<{ declaration: string }>(
      "SELECT declaration FROM exchanges WHERE name = ?",
      name,
    );
    return row ? fromJsonColumn<ExchangeDeclaration>(row.declaration, null as never) : undefined;
  }

  listExchanges(): ExchangeDeclaration[] {
    return this.sql
      .all<{ declaration: string }>("SELECT declaration FROM exchanges ORDER BY name")
      .map((row) => fromJsonColumn<ExchangeDeclaration>(row.declaration, null as never));
  }

  putExchange(declaration: ExchangeDeclaration): void {
    this.sql.run(
      "INSERT INTO exchanges (name, declaration) VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET declaration = excluded.declaration",
      declaration.name,
      toJsonColumn(declaration),
    );
  }

  deleteExchange(name: string): void {
    this.sql.run("DELETE FROM exchanges WHERE name = ?", name);
  }

  getQueue(name: string): QueueDeclaration | undefined {
    const row = this.sql.first<{ declaration: string }>(
      "SELECT declaration FROM queues WHERE name = ?",
      name,
    );
    return row ? fromJsonColumn<QueueDeclaration>(row.declaration, null as never) : undefined;
  }

  listQueues(): QueueDeclaration[] {
    return this.sql
      .all<{ declaration: string }>("SELECT declaration FROM queues ORDER BY name")
      .map((row) => fromJsonColumn<QueueDeclaration>(row.declaration, null as never));
  }

  putQueue(declaration: QueueDeclaration): void {
    this.sql.run(
      "INSERT INTO queues (name, declaration) VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET declaration = excluded.declaration",
      declaration.name,
      toJsonColumn(declaration),
    );
  }

  deleteQueue(name: string): void {
    this.sql.run("DELETE FROM queues WHERE name = ?", name);
  }

  getInbox(id: number): NotificationUser | undefined {
    const row = this.sql.first<{ id: number; name: string }>(
      "SELECT id, name FROM inboxes WHERE id = ?",
      id,
    );
    return row ? { id: row.id, name: row.name } : undefined;
  }

  listInboxes(): NotificationUser[] {
    return this.sql
      .all<{ id: number; name: string }>("SELECT id, name FROM inboxes ORDER BY id")
      .map((row) => ({ id: row.id, name: row.name }));
  }

  putInbox(user: NotificationUser): void {
    this.sql.run(
      "INSERT INTO inboxes (id, name) VALUES (?, ?) ON CONFLICT(id) DO UPDATE SET name = excluded.name",
      user.id,
      user.name,
    );
  }

  deleteInbox(id: number): void {
    this.sql.run("DELETE FROM inboxes WHERE id = ?", id);
  }

  putBinding(binding: Binding): boolean {
    const written = this.sql.run(
      "INSERT INTO bindings (source, destination_type, destination, routing_key, arguments, properties_key) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
      binding.source,
      binding.destination_type,
      binding.destination,
      binding.routing_key,
      toJsonColumn(binding.arguments),
      binding.properties_key,
    );
    return written > 0;
  }

  listBindings(vhost: string, filter: BindingFilter = {}): Binding[] {
    const clauses: string[] = [];
    const binds: string[] = [];
    const add = (column: string, value: string | undefined) => {
      if (value !== undefined) {
        clauses.push(`${column} = ?`);
        binds.push(value);
      }
    };
    add("source", filter.source);
    add("destination_type", filter.destinationType);
    add("destination", filter.destination);
    add("properties_key", filter.propertiesKey);
    const where = clauses.length > 0 ? `WHERE ${clauses.join(" AND ")}` : "";
    return this.sql
      .all<BindingRow>(
        `SELECT * FROM bindings ${where} ORDER BY source, destination_type, destination, properties_key`,
        ...binds,
      )
      .map((row) => ({
        source: row.source,
        vhost,
        destination: row.destination,
        destination_type: toDestinationType(row.destination_type),
        routing_key: row.routing_key,
        arguments: fromJsonColumn<Record<string, unknown>>(row.arguments, {}),
        properties_key: row.properties_key,
      }));
  }

  deleteBinding(binding: Binding): void {
    this.sql.run(
      "DELETE FROM bindings WHERE source = ? AND destination_type = ? AND destination = ? AND properties_key = ?",
      binding.source,
      binding.destination_type,
      binding.destination,
      binding.properties_key,
    );
  }

  countQueues(): number {
    return this.sql.count("SELECT COUNT(*) AS n FROM queues");
  }

  /** Empties the catalog (vhost deletion); the caller has destroyed the objects already. */
  clear(): void {
    this.sql.run("DELETE FROM queue_reports");
    this.sql.run("DELETE FROM connections");
    this.sql.run("DELETE FROM bindings");
    this.sql.run("DELETE FROM queues");
    this.sql.run("DELETE FROM exchanges");
    this.sql.run("DELETE FROM meta");
  }

  countBindingsFrom(source: string): number {
    return this.sql.count("SELECT COUNT(*) AS n FROM bindings WHERE source = ?", source);
  }
}

/** The id an exchange object knows a binding by. */
export function bindingId(binding: Binding): string {
  return JSON.stringify([binding.destination_type, binding.destination, binding.properties_key]);
}

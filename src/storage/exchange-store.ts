/**
 * The exchange object's tables (exchange-schema.ts): its declaration in `meta` and its outgoing
 * bindings, which the object compiles into a BindingTable when it loads.
 */
import { toDestinationType } from "../protocol/bindings";
import type { ExchangeDeclaration } from "../protocol/declarations";
import type { DestinationKind } from "../routing/binding-table";
import type { FieldTable } from "../routing/exchange-type";
import { fromJsonColumn, toJsonColumn } from "./json-column";
import { Sql } from "./sql";

/** A binding as the exchange object stores it: the catalog's id, where it leads, its key. */
export interface StoredBinding {
  readonly id: string;
  readonly kind: DestinationKind;
  readonly destination: string;
  readonly routingKey: string;
  readonly arguments: FieldTable;
}

interface BindingRow extends Record<string, SqlStorageValue> {
  id: string;
  kind: string;
  destination: string;
  routing_key: string;
  arguments: string;
}

export class ExchangeStore {
  private readonly sql: Sql;

  constructor(storage: SqlStorage) {
    this.sql = new Sql(storage);
  }

  declaration(): ExchangeDeclaration | undefined {
    const row = this.sql.first<{ value: string }>(
      "SELECT value FROM meta WHERE key = 'declaration'",
    );
    return row ? fromJsonColumn<ExchangeDeclaration>(row.value, null as never) : undefined;
  }

  putDeclaration(declaration: ExchangeDeclaration): void {
    this.sql.run(
      "INSERT INTO meta (key, value) VALUES ('declaration', ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
      toJsonColumn(declaration),
    );
  }

  bindings(): StoredBinding[] {
    return this.sql.all<BindingRow>("SELECT * FROM bindings").map((row) => ({
      id: row.id,
      kind: row.kind === "stream" ? "stream" : toDestinationType(row.kind),
      destination: row.destination,
      routingKey: row.routing_key,
      arguments: fromJsonColumn<FieldTable>(row.arguments, {}),
    }));
  }

  putBinding(binding: StoredBinding): void {
    this.sql.run(
      "INSERT INTO bindings (id, kind, destination, routing_key, arguments) VALUES (?, ?, ?, ?, ?) ON CONFLICT(id) DO NOTHING",
      binding.id,
      binding.kind,
      binding.destination,
      binding.routingKey,
      toJsonColumn(binding.arguments),
    );
  }

  deleteBinding(id: string): void {
    this.sql.run("DELETE FROM bindings WHERE id = ?", id);
  }

  /** Empties both tables (the caller runs this in a transaction). */
  clear(): void {
    this.sql.run("DELETE FROM bindings");
    this.sql.run("DELETE FROM meta");
  }
}

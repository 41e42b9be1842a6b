/** A partitioned topic's object keeps one row: its declaration, in the `meta` table. */
import type { TopicDeclaration } from "../protocol/topic";
import { fromJsonColumn, toJsonColumn } from "./json-column";
import { MetaStore } from "./meta-store";
import type { Migration } from "./migrations";

export const TOPIC_MIGRATIONS: readonly Migration[] = [
  ["CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)"],
];

export class TopicStore extends MetaStore {
  declaration(): TopicDeclaration | null {
    return fromJsonColumn<TopicDeclaration | null>(this.getMeta("declaration"), null);
  }

  putDeclaration(declaration: TopicDeclaration): void {
    this.setMeta("declaration", toJsonColumn(declaration));
  }

  clear(): void {
    this.clearMeta();
  }
}

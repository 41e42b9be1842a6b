/** JSON-in-TEXT columns: SQLite stores the text, callers get typed values back. */
export function toJsonColumn(value: unknown): string {
  return JSON.stringify(value ?? {});
}

export function fromJsonColumn<T>(text: string | null | undefined, fallback: T): T {
  if (text === null || text === undefined || text === "") {
    return fallback;
  }
  return JSON.parse(text) as T;
}

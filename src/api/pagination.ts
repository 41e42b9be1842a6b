/**
 * List queries as RabbitMQ's management API takes them: `name` (+ `use_regex`), `sort`,
 * `sort_reverse`, `columns`, and `page` + `page_size` (default 100, at most 500). With `page`
 * the answer is the paged envelope; without it, a plain array.
 */
import { compileBoundedRegex, isRegexFailure } from "../access/bounded-regex";
import { LIMITS } from "../config";
import { BrokerError } from "../errors";
import { mapLimited } from "../runtime/map-limited";
import type { AppContext } from "./context";

type Item = Record<string, unknown>;

export interface Paged<T> {
  filtered_count: number;
  item_count: number;
  items: T[];
  page: number;
  page_count: number;
  page_size: number;
  total_count: number;
}

function positiveInt(text: string | undefined, key: string, fallback: number): number {
  if (text === undefined) return fallback;
  if (!/^\d+$/.test(text) || Number(text) < 1) {
    throw new BrokerError("bad_request", `${key} must be a positive integer`);
  }
  return Number(text);
}

function pick(item: Item, path: string): unknown {
  let value: unknown = item;
  for (const part of path.split(".")) {
    value = value !== null && typeof value === "object" ? (value as Item)[part] : undefined;
  }
  return value;
}

function compare(a: unknown, b: unknown): number {
  if (typeof a === "number" && typeof b === "number") return a - b;
  const x = String(a ?? "");
  const y = String(b ?? "");
  return x < y ? -1 : x > y ? 1 : 0;
}

function nameFilter(c: AppContext): ((name: string) => boolean) | null {
  const pattern = c.req.query("name");
  if (pattern === undefined || pattern === "") return null;
  if (c.req.query("use_regex") === "true") {
    // RE2 (linear time), the same engine as permission regexes: a caller's pattern cannot
    // stall the isolate however it backtracks ("^(a+)+$" against a long name).
    const regex = compileBoundedRegex(pattern, {
      maxLength: LIMITS.maxFilterRegexLength,
      caseInsensitive: true,
      what: "regular expression",
    });
    if (isRegexFailure(regex)) throw new BrokerError(regex.code, regex.reason);
    return (name) => regex.test(name);
  }
  const needle = pattern.toLowerCase();
  return (name) => name.toLowerCase().includes(needle);
}

function project(items: Item[], columns: string | undefined): Item[] {
  if (!columns) return items;
  const wanted = columns.split(",").filter(Boolean);
  return items.map((item) => {
    const out: Item = {};
    for (const column of wanted) {
      const value = pick(item, column);
      if (value !== undefined) {
        // Nested columns keep their nesting, as RabbitMQ's column selection does.
        const parts = column.split(".");
        let target = out;
        parts.slice(0, -1).forEach((part) => {
          target[part] = (target[part] as Item | undefined) ?? {};
          target = target[part] as Item;
        });
        target[parts[parts.length - 1] as string] = value;
      }
    }
    return out;
  });
}

/**
 * The list query over records that need an RPC each to present (a queue's counts live in its own
 * object): when the page can be chosen from the records alone (no sort, or a sort on one of
 * `recordKeys`), only the page's records are presented, so a page of 10,000 queues costs one
 * page of calls, not 10,000. A sort on a presented column (messages, rates) needs every record's
 * figures: with `fromSnapshot` (rows in record order from a snapshot kept elsewhere, such as the
 * vhost's latest queue reports) the sort runs on the snapshot and only the page's rows are
 * presented fresh; without it, every record is presented, up to LIMITS.maxFanOut.
 */
export async function listPresented<T extends object>(
  c: AppContext,
  records: readonly T[],
  present: (record: T) => Promise<Item>,
  recordKeys: ReadonlySet<string>,
  fromSnapshot?: (records: readonly T[]) => Promise<Item[]>,
): Promise<Item[] | Paged<Item>> {
  const sort = c.req.query("sort");
  const cheap = sort === undefined || sort === "" || recordKeys.has(sort.split(".")[0] ?? "");
  const paged = c.req.query("page") !== undefined;
  if (fromSnapshot && (!cheap || (!paged && records.length > LIMITS.maxFanOut))) {
    const rows = await fromSnapshot(records);
    if (!paged) return listAnswer(c, rows);
    const recordOf = new Map(rows.map((row, index) => [row, records[index] as T]));
    const page = listAnswer(c, rows, false) as Paged<Item>;
    // The order is the snapshot's; the rows shown are fresh (one call per row of the page).
    const fresh = await Promise.all(page.items.map((row) => present(recordOf.get(row) as T)));
    return { ...page, items: project(fresh, c.req.query("columns")) };
  }
  if (!cheap || !paged) {
    if (records.length > LIMITS.maxFanOut) {
      throw new BrokerError(
        "bad_request",
        `this list needs the counts of all ${records.length} objects, more than the ${LIMITS.maxFanOut} one request may ask: page it (page, page_size) sorted by name, or filter by name first`,
      );
    }
    return listAnswer(c, await mapLimited(records, LIMITS.fanOutConcurrency, present));
  }
  // Records are plain objects: the query reads their fields by name, as it does presented items.
  const page = listAnswer(c, records as unknown as Item[], false) as Paged<Item>;
  const presented = await Promise.all(page.items.map((record) => present(record as T)));
  return { ...page, items: project(presented, c.req.query("columns")) };
}

/** Applies the list query to `items` (already in default order) and shapes the answer. */
export function listAnswer<T extends Item>(
  c: AppContext,
  items: T[],
  projectColumns = true,
): Item[] | Paged<Item> {
  const total = items.length;
  const filter = nameFilter(c);
  let selected: Item[] = filter ? items.filter((item) => filter(String(item.name ?? ""))) : items;
  const sort = c.req.query("sort");
  if (sort) {
    selected = [...selected].sort((a, b) => compare(pick(a, sort), pick(b, sort)));
  }
  if (c.req.query("sort_reverse") === "true") {
    selected = [...selected].reverse();
  }
  const pageText = c.req.query("page");
  if (pageText === undefined) {
    return project(selected, c.req.query("columns"));
  }
  const page = positiveInt(pageText, "page", 1);
  const pageSize = positiveInt(c.req.query("page_size"), "page_size", LIMITS.defaultPageSize);
  if (pageSize > LIMITS.maxPageSize) {
    throw new BrokerError(
      "bad_request",
      `page_size must not be greater than ${LIMITS.maxPageSize}`,
    );
  }
  const pageCount = Math.max(1, Math.ceil(selected.length / pageSize));
  if (page > pageCount) {
    throw new BrokerError("bad_request", "page out of range");
  }
  const slice = selected.slice((page - 1) * pageSize, page * pageSize);
  return {
    filtered_count: selected.length,
    item_count: slice.length,
    items: projectColumns ? project(slice, c.req.query("columns")) : slice,
    page,
    page_count: pageCount,
    page_size: pageSize,
    total_count: total,
  };
}

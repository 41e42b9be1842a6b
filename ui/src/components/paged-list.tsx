/**
 * A list the API pages, filters and sorts (exchanges, queues): the query state, the polled
 * request, and the filter form, table and pager around it. The API does the work, so a page
 * costs the same with 10,000 objects as with 100.
 */
import type { ComponentChildren } from "preact";
import { useState } from "preact/hooks";
import { get, type Paged, seg } from "../api";
import { useApi } from "../hooks";
import { useSelectedVhost } from "../state";
import { Check, Text } from "./fields";
import { LoadError } from "./notice";
import { type Column, Pager, type Sort, Table } from "./table";

const POLL_MS = 5000;

export interface PagedListState<T> {
  /** The selected vhost; "" for all. */
  readonly vhost: string;
  readonly filter: string;
  readonly regex: boolean;
  readonly sort: Sort;
  readonly data: Paged<T> | undefined;
  readonly error: Error | undefined;
  readonly reload: () => void;
  /** Each change of filter, regex or sort starts again at page 1. */
  setFilter(filter: string): void;
  setRegex(regex: boolean): void;
  setSort(sort: Sort): void;
  setPage(page: number): void;
}

/** One page of `/api/{resource}[/{vhost}]`, polled; `extra` adds query parameters (columns). */
export function usePagedList<T>(
  resource: "exchanges" | "queues",
  pageSize: number,
  extra: Record<string, string> = {},
): PagedListState<T> {
  const vhost = useSelectedVhost();
  const [filter, setFilter] = useState("");
  const [regex, setRegex] = useState(false);
  const [sort, setSort] = useState<Sort>({ key: "name", reverse: false });
  const [page, setPage] = useState(1);
  const query = new URLSearchParams({
    page: String(page),
    page_size: String(pageSize),
    name: filter,
    use_regex: String(regex),
    sort: sort.key,
    sort_reverse: String(sort.reverse),
    ...extra,
  });
  const path = vhost === "" ? `/api/${resource}` : `/api/${resource}/${seg(vhost)}`;
  const { data, error, reload } = useApi(
    () => get<Paged<T>>(`${path}?${query}`),
    [path, query.toString()],
    POLL_MS,
  );
  return {
    vhost,
    filter,
    regex,
    sort,
    data,
    error,
    reload,
    setFilter: (value) => {
      setFilter(value);
      setPage(1);
    },
    setRegex: (value) => {
      setRegex(value);
      setPage(1);
    },
    setSort: (value) => {
      setSort(value);
      setPage(1);
    },
    setPage,
  };
}

/** The filter form (with `children` beside it), the table and the pager of a paged list. */
export function PagedList<T>({
  list,
  testId,
  columns,
  rowKey,
  empty,
  placeholder,
  children,
}: {
  list: PagedListState<T>;
  testId: string;
  columns: Column<T>[];
  rowKey: (row: T) => string;
  /** What the table says when nothing matches. */
  empty: string;
  placeholder?: string;
  children?: ComponentChildren;
}) {
  const { data } = list;
  return (
    <>
      <form class="filters" onSubmit={(event) => event.preventDefault()}>
        <Text
          label="Filter"
          name="filter"
          value={list.filter}
          placeholder={placeholder}
          onInput={list.setFilter}
        />
        <Check label="Regex" name="regex" checked={list.regex} onChange={list.setRegex} />
        {children}
      </form>
      <LoadError error={list.error} />
      <Table
        testId={testId}
        columns={columns}
        rows={data?.items ?? []}
        rowKey={rowKey}
        sort={list.sort}
        onSort={list.setSort}
        empty={data ? empty : "Loading…"}
      />
      {data && data.page_count > 1 && (
        <Pager page={data.page} pageCount={data.page_count} onPage={list.setPage} />
      )}
    </>
  );
}

/**
 * A table whose headers sort (the sort itself happens where the data is: the API for queue and
 * exchange lists, the page for short lists). Cells are components: text is escaped by Preact.
 */
import type { ComponentChildren } from "preact";

export interface Column<T> {
  readonly label: string;
  /** The API's sort key; a column without one does not sort. */
  readonly sort?: string;
  readonly numeric?: boolean;
  readonly cell: (row: T) => ComponentChildren;
}

export interface Sort {
  readonly key: string;
  readonly reverse: boolean;
}

export function Table<T>({
  columns,
  rows,
  rowKey,
  sort,
  onSort,
  empty = "Nothing here yet.",
  testId,
}: {
  columns: readonly Column<T>[];
  rows: readonly T[];
  rowKey: (row: T) => string;
  sort?: Sort;
  onSort?: (sort: Sort) => void;
  empty?: string;
  testId?: string;
}) {
  return (
    <table data-testid={testId}>
      <thead>
        <tr>
          {columns.map((column) => {
            const active = sort && column.sort === sort.key;
            const sortable = column.sort !== undefined && onSort !== undefined;
            return (
              <th
                key={column.label}
                class={column.numeric ? "num" : undefined}
                aria-sort={active ? (sort.reverse ? "descending" : "ascending") : undefined}
              >
                {sortable ? (
                  <button
                    type="button"
                    class="sort"
                    onClick={() =>
                      onSort({
                        key: column.sort as string,
                        reverse: active ? !sort.reverse : false,
                      })
                    }
                  >
                    {column.label}
                    {active ? (sort.reverse ? " ▼" : " ▲") : ""}
                  </button>
                ) : (
                  column.label
                )}
              </th>
            );
          })}
        </tr>
      </thead>
      <tbody>
        {rows.length === 0 ? (
          <tr>
            <td colSpan={columns.length} class="empty">
              {empty}
            </td>
          </tr>
        ) : (
          rows.map((row) => (
            <tr key={rowKey(row)}>
              {columns.map((column) => (
                <td key={column.label} class={column.numeric ? "num" : undefined}>
                  {column.cell(row)}
                </td>
              ))}
            </tr>
          ))
        )}
      </tbody>
    </table>
  );
}

export function Pager({
  page,
  pageCount,
  onPage,
}: {
  page: number;
  pageCount: number;
  onPage: (page: number) => void;
}) {
  return (
    <nav class="pager" aria-label="pages">
      <button type="button" disabled={page <= 1} onClick={() => onPage(page - 1)}>
        ‹ Previous
      </button>
      <span>
        Page {page} of {pageCount}
      </span>
      <button type="button" disabled={page >= pageCount} onClick={() => onPage(page + 1)}>
        Next ›
      </button>
    </nav>
  );
}

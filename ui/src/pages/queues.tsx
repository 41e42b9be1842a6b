/**
 * Queues: a page of the list at a time (the API pages, filters and sorts, so 10,000 queues cost
 * one page), filter by name or regex, sort by any column, and declare a queue.
 */
import { useEffect, useState } from "preact/hooks";
import { get, type Paged, put, type QueueInfo, rate, seg } from "../api";
import { VhostChoice } from "../components/declare";
import { Check, TableEditor, Text, tableOf, useTableRows } from "../components/fields";
import { LoadError, Notice } from "../components/notice";
import { type Column, Pager, type Sort, Table } from "../components/table";
import { formatCount, formatRate } from "../format";
import { useAction, useApi } from "../hooks";
import { href } from "../router";
import { useSelectedVhost } from "../state";

export const QUEUE_PAGE_SIZE = 100;
/**
 * Sorting by a count or a rate makes the API ask every queue's object (names and declarations
 * come from the catalog at once): offered up to this many queues, so the page stays fast with
 * 10,000 (BENCHMARKS.md, "Management UI").
 */
export const STATS_SORT_LIMIT = 2000;
const POLL_MS = 5000;
const COLUMNS_QUERY = [
  "name",
  "vhost",
  "durable",
  "auto_delete",
  "arguments",
  "messages",
  "messages_ready",
  "messages_unacknowledged",
  "consumers",
  "message_stats",
].join(",");

function features(queue: QueueInfo): string {
  const marks: string[] = [];
  if (queue.durable) marks.push("D");
  if (queue.auto_delete) marks.push("AD");
  if (Object.keys(queue.arguments ?? {}).length > 0) marks.push("Args");
  return marks.join(" ");
}

export function QueuesPage() {
  const vhost = useSelectedVhost();
  const [filter, setFilter] = useState("");
  const [regex, setRegex] = useState(false);
  const [sort, setSort] = useState<Sort>({ key: "name", reverse: false });
  const [page, setPage] = useState(1);

  const query = new URLSearchParams({
    page: String(page),
    page_size: String(QUEUE_PAGE_SIZE),
    name: filter,
    use_regex: String(regex),
    sort: sort.key,
    sort_reverse: String(sort.reverse),
    columns: COLUMNS_QUERY,
  });
  const path = vhost === "" ? "/api/queues" : `/api/queues/${seg(vhost)}`;
  const { data, error, reload } = useApi(
    () => get<Paged<QueueInfo>>(`${path}?${query}`),
    [path, query.toString()],
    POLL_MS,
  );

  const statsSortable = (data?.filtered_count ?? 0) <= STATS_SORT_LIMIT;
  const statsSort = (key: string) => (statsSortable ? key : undefined);
  useEffect(() => {
    if (!statsSortable && sort.key !== "name" && sort.key !== "vhost") {
      setSort({ key: "name", reverse: false });
    }
  }, [statsSortable, sort.key]);
  const columns: Column<QueueInfo>[] = [
    ...(vhost === ""
      ? [{ label: "Virtual host", sort: "vhost", cell: (q: QueueInfo) => q.vhost }]
      : []),
    {
      label: "Name",
      sort: "name",
      cell: (q) => (
        <a href={href("queues", q.vhost, q.name)} class="name">
          {q.name}
        </a>
      ),
    },
    { label: "Features", cell: features },
    {
      label: "Ready",
      sort: statsSort("messages_ready"),
      numeric: true,
      cell: (q) => formatCount(q.messages_ready),
    },
    {
      label: "Unacked",
      sort: statsSort("messages_unacknowledged"),
      numeric: true,
      cell: (q) => formatCount(q.messages_unacknowledged),
    },
    {
      label: "Total",
      sort: statsSort("messages"),
      numeric: true,
      cell: (q) => formatCount(q.messages),
    },
    {
      label: "Consumers",
      sort: statsSort("consumers"),
      numeric: true,
      cell: (q) => formatCount(q.consumers),
    },
    {
      label: "Incoming",
      sort: statsSort("message_stats.publish_details.rate"),
      numeric: true,
      cell: (q) => formatRate(rate(q.message_stats, "publish")),
    },
    {
      label: "Deliver / get",
      sort: statsSort("message_stats.deliver_get_details.rate"),
      numeric: true,
      cell: (q) => formatRate(rate(q.message_stats, "deliver_get")),
    },
    {
      label: "Ack",
      sort: statsSort("message_stats.ack_details.rate"),
      numeric: true,
      cell: (q) => formatRate(rate(q.message_stats, "ack")),
    },
  ];

  return (
    <section>
      <h1>Queues</h1>
      <form class="filters" onSubmit={(event) => event.preventDefault()}>
        <Text
          label="Filter"
          name="filter"
          value={filter}
          placeholder={regex ? "regular expression" : "part of the name"}
          onInput={(value) => {
            setFilter(value);
            setPage(1);
          }}
        />
        <Check
          label="Regex"
          name="regex"
          checked={regex}
          onChange={(value) => {
            setRegex(value);
            setPage(1);
          }}
        />
        <span class="muted" data-testid="queue-count">
          {data
            ? `${formatCount(data.filtered_count)} of ${formatCount(data.total_count)} queues`
            : ""}
        </span>
      </form>
      <LoadError error={error} />
      <Table
        testId="queues"
        columns={columns}
        rows={data?.items ?? []}
        rowKey={(q) => `${q.vhost}\u0000${q.name}`}
        sort={sort}
        onSort={(next) => {
          setSort(next);
          setPage(1);
        }}
        empty={data ? "No queues match." : "Loading…"}
      />
      {data && data.page_count > 1 && (
        <Pager page={data.page} pageCount={data.page_count} onPage={setPage} />
      )}
      <DeclareQueue defaultVhost={vhost || "/"} onDeclared={reload} />
    </section>
  );
}

function DeclareQueue({
  defaultVhost,
  onDeclared,
}: {
  defaultVhost: string;
  onDeclared: () => void;
}) {
  const [vhost, setVhost] = useState(defaultVhost);
  useEffect(() => setVhost(defaultVhost), [defaultVhost]);
  const [name, setName] = useState("");
  const [durable, setDurable] = useState(true);
  const [autoDelete, setAutoDelete] = useState(false);
  const [args, setArgs] = useTableRows();
  const action = useAction();
  const submit = async (event: Event) => {
    event.preventDefault();
    const ok = await action.run(async () => {
      await put(`/api/queues/${seg(vhost)}/${seg(name)}`, {
        durable,
        auto_delete: autoDelete,
        arguments: tableOf(args),
      });
      return `Queue '${name}' declared.`;
    });
    if (ok) {
      setName("");
      onDeclared();
    }
  };
  return (
    <form class="panel" onSubmit={submit} data-testid="declare-queue">
      <h2>Add a queue</h2>
      <VhostChoice value={vhost} onChange={setVhost} />
      <Text label="Name" name="queue-name" value={name} onInput={setName} required />
      <Check label="Durable" name="durable" checked={durable} onChange={setDurable} />
      <Check label="Auto delete" name="auto-delete" checked={autoDelete} onChange={setAutoDelete} />
      <TableEditor label="Arguments" name="arguments" rows={args} onChange={setArgs} />
      <button type="submit">Add queue</button>
      <Notice message={action.message} />
    </form>
  );
}

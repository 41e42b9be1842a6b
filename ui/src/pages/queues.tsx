/**
 * Queues: a page of the list at a time (the API pages, filters and sorts, so 10,000 queues cost
 * one page), filter by name or regex, sort by any column, and declare a queue.
 */
import { useEffect, useState } from "preact/hooks";
import { put, type QueueInfo, rate, seg } from "../api";
import { VhostChoice } from "../components/declare";
import { Check, TableEditor, Text, tableOf, useTableRows } from "../components/fields";
import { Notice } from "../components/notice";
import { PagedList, usePagedList } from "../components/paged-list";
import type { Column } from "../components/table";
import { formatCount, formatRate } from "../format";
import { useAction } from "../hooks";
import { href } from "../router";

export const QUEUE_PAGE_SIZE = 100;
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
  const list = usePagedList<QueueInfo>("queues", QUEUE_PAGE_SIZE, { columns: COLUMNS_QUERY });
  const { vhost, data } = list;
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
      sort: "messages_ready",
      numeric: true,
      cell: (q) => formatCount(q.messages_ready),
    },
    {
      label: "Unacked",
      sort: "messages_unacknowledged",
      numeric: true,
      cell: (q) => formatCount(q.messages_unacknowledged),
    },
    {
      label: "Total",
      sort: "messages",
      numeric: true,
      cell: (q) => formatCount(q.messages),
    },
    {
      label: "Consumers",
      sort: "consumers",
      numeric: true,
      cell: (q) => formatCount(q.consumers),
    },
    {
      label: "Incoming",
      sort: "message_stats.publish_details.rate",
      numeric: true,
      cell: (q) => formatRate(rate(q.message_stats, "publish")),
    },
    {
      label: "Deliver / get",
      sort: "message_stats.deliver_get_details.rate",
      numeric: true,
      cell: (q) => formatRate(rate(q.message_stats, "deliver_get")),
    },
    {
      label: "Ack",
      sort: "message_stats.ack_details.rate",
      numeric: true,
      cell: (q) => formatRate(rate(q.message_stats, "ack")),
    },
  ];

  return (
    <section>
      <h1>Queues</h1>
      <PagedList
        list={list}
        testId="queues"
        columns={columns}
        rowKey={(q) => `${q.vhost}\u0000${q.name}`}
        empty="No queues match."
        placeholder={list.regex ? "regular expression" : "part of the name"}
      >
        <span class="muted" data-testid="queue-count">
          {data
            ? `${formatCount(data.filtered_count)} of ${formatCount(data.total_count)} queues`
            : ""}
        </span>
      </PagedList>
      <DeclareQueue defaultVhost={vhost || "/"} onDeclared={list.reload} />
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

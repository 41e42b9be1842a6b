/**
 * Partitioned topics (docs/streams.md): the topics of a vhost the user may read, declare one
 * (partitions, retention arguments), and one topic's partitions with their offsets and sizes.
 * Stream queues themselves are in the Queues list (type "stream").
 */
import { useEffect, useState } from "preact/hooks";
import { del, get, put, seg } from "../api";
import { VhostChoice } from "../components/declare";
import { TableEditor, Text, tableOf, useTableRows } from "../components/fields";
import { LoadError, Notice } from "../components/notice";
import { Table } from "../components/table";
import { formatBytes, formatCount } from "../format";
import { useAction, useApi } from "../hooks";
import { href, navigate } from "../router";
import { useSelectedVhost } from "../state";
import type { PageProps } from "./index";

interface Partition {
  partition: number;
  stream: string;
  first_offset?: number;
  last_offset?: number;
  messages?: number;
  bytes?: number;
}
interface TopicInfo {
  name: string;
  vhost: string;
  arguments: Record<string, unknown>;
  partitions: number;
  messages: number;
  bytes: number;
  partition_details: Partition[];
}

export function TopicsPage() {
  const selected = useSelectedVhost();
  const [vhost, setVhost] = useState(selected || "/");
  useEffect(() => setVhost(selected || "/"), [selected]);
  const topics = useApi(() => get<TopicInfo[]>(`/api/topics/${seg(vhost)}`), [vhost], 5000);
  const [name, setName] = useState("");
  const [partitions, setPartitions] = useState("3");
  const [args, setArgs] = useTableRows();
  const action = useAction();
  const declare = async (event: Event) => {
    event.preventDefault();
    const ok = await action.run(async () => {
      await put(`/api/topics/${seg(vhost)}/${seg(name)}`, {
        partitions: Number(partitions),
        arguments: tableOf(args),
      });
      return `Topic '${name}' declared.`;
    });
    if (ok) {
      setName("");
      topics.reload();
    }
  };
  return (
    <section>
      <h1>Topics</h1>
      <VhostChoice value={vhost} onChange={setVhost} />
      <LoadError error={topics.error} />
      <Table
        testId="topics"
        rows={topics.data ?? []}
        rowKey={(t) => t.name}
        empty="No topics."
        columns={[
          { label: "Name", cell: (t) => <a href={href("topics", t.vhost, t.name)}>{t.name}</a> },
          { label: "Partitions", numeric: true, cell: (t) => t.partitions },
          { label: "Messages", numeric: true, cell: (t) => formatCount(t.messages) },
          { label: "Bytes", numeric: true, cell: (t) => formatBytes(t.bytes) },
        ]}
      />
      <form class="panel" onSubmit={declare} data-testid="declare-topic">
        <h2>Add a topic</h2>
        <Text label="Name" name="topic-name" value={name} onInput={setName} required />
        <Text
          label="Partitions"
          name="topic-partitions"
          type="number"
          value={partitions}
          onInput={setPartitions}
          required
        />
        <TableEditor
          label="Arguments (x-max-age, x-max-length-bytes)"
          name="topic-arguments"
          rows={args}
          onChange={setArgs}
        />
        <button type="submit">Add topic</button>
        <Notice message={action.message} />
      </form>
    </section>
  );
}

export function TopicPage({ args }: PageProps) {
  const [vhost = "/", name = ""] = args;
  const path = `/api/topics/${seg(vhost)}/${seg(name)}`;
  const topic = useApi(() => get<TopicInfo>(path), [path], 5000);
  const action = useAction();
  return (
    <section>
      <h1>
        Topic <span class="name">{name}</span> <small class="muted">in {vhost}</small>
      </h1>
      <LoadError error={topic.error} />
      <Table
        testId="partitions"
        rows={topic.data?.partition_details ?? []}
        rowKey={(p) => String(p.partition)}
        columns={[
          { label: "Partition", numeric: true, cell: (p) => p.partition },
          {
            label: "Stream",
            cell: (p) => <a href={href("queues", vhost, p.stream)}>{p.stream}</a>,
          },
          { label: "First offset", numeric: true, cell: (p) => formatCount(p.first_offset) },
          { label: "Last offset", numeric: true, cell: (p) => formatCount(p.last_offset) },
          { label: "Messages", numeric: true, cell: (p) => formatCount(p.messages) },
          { label: "Bytes", numeric: true, cell: (p) => formatBytes(p.bytes) },
        ]}
      />
      <div class="panel danger-zone">
        <button
          type="button"
          class="danger"
          onClick={() => {
            if (!confirm(`Delete topic '${name}' and its partitions?`)) return;
            void action.run(async () => {
              await del(path);
              navigate("topics");
              return undefined;
            });
          }}
        >
          Delete topic
        </button>
        <Notice message={action.message} />
      </div>
    </section>
  );
}

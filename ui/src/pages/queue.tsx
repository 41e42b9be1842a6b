/**
 * One queue: counts and rates, consumers, bindings, get messages (peek with requeue or take,
 * showing properties, headers and payload), publish to it, purge, delete.
 */
import { useState } from "preact/hooks";
import { type BindingInfo, del, get, post, type QueueInfo, seg } from "../api";
import { BindForm, BindingList } from "../components/bindings";
import { Select, Text } from "../components/fields";
import { LoadError, Notice } from "../components/notice";
import { PayloadView } from "../components/payload";
import { PublishForm } from "../components/publish-form";
import { StatsTable } from "../components/stats";
import { Table } from "../components/table";
import { formatBytes, formatCount } from "../format";
import { useAction, useApi } from "../hooks";
import { navigate } from "../router";
import type { PageProps } from "./index";

interface ConsumerDetail {
  consumer_tag: string;
  ack_required: boolean;
  prefetch_count: number;
  exclusive: boolean;
  active: boolean;
  messages_unacknowledged: number;
  channel_details: { connection_name: string; user: string };
}

interface GotMessage {
  payload: string;
  payload_encoding: string;
  payload_bytes: number;
  redelivered: boolean;
  exchange: string;
  routing_key: string;
  message_count: number;
  properties: Record<string, unknown> & { headers?: Record<string, unknown> };
}

export function QueuePage({ args }: PageProps) {
  const [vhost = "/", name = ""] = args;
  const path = `/api/queues/${seg(vhost)}/${seg(name)}`;
  const queue = useApi(
    () => get<QueueInfo & { consumer_details: ConsumerDetail[] }>(path),
    [path],
    5000,
  );
  const bindings = useApi(() => get<BindingInfo[]>(`${path}/bindings`), [path]);
  const action = useAction();
  const q = queue.data;

  return (
    <section>
      <h1>
        Queue{" "}
        <span class="name" data-testid="queue-name">
          {name}
        </span>{" "}
        <small class="muted">in {vhost}</small>
      </h1>
      <LoadError error={queue.error} />
      {q && (
        <div class="columns">
          <dl class="facts" data-testid="queue-facts">
            <dt>Ready</dt>
            <dd data-fact="ready">{formatCount(q.messages_ready)}</dd>
            <dt>Unacked</dt>
            <dd data-fact="unacked">{formatCount(q.messages_unacknowledged)}</dd>
            <dt>Total</dt>
            <dd data-fact="total">{formatCount(q.messages)}</dd>
            <dt>Bytes</dt>
            <dd>{formatBytes(q.message_bytes)}</dd>
            <dt>Consumers</dt>
            <dd>{formatCount(q.consumers)}</dd>
            <dt>Durable</dt>
            <dd>{String(q.durable)}</dd>
            <dt>Auto delete</dt>
            <dd>{String(q.auto_delete)}</dd>
            <dt>Arguments</dt>
            <dd>
              <code>{JSON.stringify(q.arguments)}</code>
            </dd>
          </dl>
          <StatsTable
            stats={q.message_stats}
            events={["publish", "deliver_get", "ack", "redeliver"]}
          />
        </div>
      )}
      <h2>Consumers</h2>
      <Table
        testId="consumers"
        rows={q?.consumer_details ?? []}
        rowKey={(c) => `${c.channel_details.connection_name}\u0000${c.consumer_tag}`}
        empty="No consumers."
        columns={[
          { label: "Tag", cell: (c) => c.consumer_tag },
          { label: "User", cell: (c) => c.channel_details.user },
          { label: "Ack required", cell: (c) => String(c.ack_required) },
          { label: "Prefetch", numeric: true, cell: (c) => c.prefetch_count },
          { label: "Unacked", numeric: true, cell: (c) => c.messages_unacknowledged },
          { label: "Exclusive", cell: (c) => String(c.exclusive) },
          { label: "Active", cell: (c) => String(c.active) },
        ]}
      />
      <BindingList
        title="Bindings"
        testId="queue-bindings"
        bindings={bindings.data ?? []}
        show="source"
        onChange={bindings.reload}
      />
      <BindForm
        vhost={vhost}
        fixed={{ role: "destination", type: "q", name }}
        onBound={bindings.reload}
      />
      <GetMessages vhost={vhost} name={name} onDone={queue.reload} />
      <PublishForm vhost={vhost} exchange="" routingKey={name} onPublished={queue.reload} />
      <div class="panel danger-zone">
        <h2>Purge and delete</h2>
        <button
          type="button"
          onClick={() =>
            action.run(async () => {
              await del(`${path}/contents`);
              queue.reload();
              return "Queue purged.";
            })
          }
        >
          Purge messages
        </button>{" "}
        <button
          type="button"
          class="danger"
          onClick={() => {
            if (!confirm(`Delete queue '${name}' and its messages?`)) return;
            void action.run(async () => {
              await del(path);
              navigate("queues");
              return undefined;
            });
          }}
        >
          Delete queue
        </button>
        <Notice message={action.message} />
      </div>
    </section>
  );
}

function GetMessages({ vhost, name, onDone }: { vhost: string; name: string; onDone: () => void }) {
  const [ackmode, setAckmode] = useState("ack_requeue_true");
  const [encoding, setEncoding] = useState("auto");
  const [count, setCount] = useState("1");
  const [messages, setMessages] = useState<GotMessage[] | null>(null);
  const action = useAction();
  const submit = async (event: Event) => {
    event.preventDefault();
    await action.run(async () => {
      const got = await post<GotMessage[]>(`/api/queues/${seg(vhost)}/${seg(name)}/get`, {
        count: Number(count),
        ackmode,
        encoding,
        truncate: 50000,
      });
      setMessages(got);
      onDone();
      return got.length === 0 ? "Queue is empty." : undefined;
    });
  };
  return (
    <form class="panel" onSubmit={submit} data-testid="get-messages">
      <h2>Get messages</h2>
      <Select
        label="Ack mode"
        name="ackmode"
        value={ackmode}
        options={[
          ["ack_requeue_true", "Nack message requeue true (peek)"],
          ["reject_requeue_true", "Reject requeue true (peek)"],
          ["ack_requeue_false", "Automatic ack (take)"],
          ["reject_requeue_false", "Reject requeue false (take)"],
        ]}
        onChange={setAckmode}
      />
      <Select
        label="Encoding"
        name="encoding"
        value={encoding}
        options={[
          ["auto", "Auto string / base64"],
          ["base64", "Base64"],
        ]}
        onChange={setEncoding}
      />
      <Text label="Messages" name="count" type="number" value={count} onInput={setCount} />
      <button type="submit">Get messages</button>
      <Notice message={action.message} />
      {messages?.map((m, index) => (
        <article class="message" key={index} data-testid="message">
          <h3>
            Message {index + 1} <small class="muted">({m.message_count} left in the queue)</small>
          </h3>
          <dl class="facts">
            <dt>Exchange</dt>
            <dd>{m.exchange || "(AMQP default)"}</dd>
            <dt>Routing key</dt>
            <dd>{m.routing_key}</dd>
            <dt>Redelivered</dt>
            <dd>{String(m.redelivered)}</dd>
            <dt>Payload</dt>
            <dd>
              {m.payload_bytes} bytes, encoding {m.payload_encoding}
            </dd>
            {Object.entries(m.properties)
              .filter(([key]) => key !== "headers")
              .map(([key, value]) => [
                <dt key={`k-${key}`}>{key}</dt>,
                <dd key={`v-${key}`}>
                  {typeof value === "string" ? value : JSON.stringify(value)}
                </dd>,
              ])}
            {m.properties.headers &&
              Object.entries(m.properties.headers).map(([key, value]) => [
                <dt key={`hk-${key}`}>header {key}</dt>,
                <dd key={`hv-${key}`}>
                  {typeof value === "string" ? value : JSON.stringify(value)}
                </dd>,
              ])}
          </dl>
          <PayloadView payload={m.payload} encoding={m.payload_encoding} />
        </article>
      ))}
    </form>
  );
}

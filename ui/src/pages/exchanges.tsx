/**
 * Exchanges: the list (paged, filtered and sorted by the API) and declare; one exchange: its
 * rates, bindings from and to it, bind and unbind, publish (showing `routed`), delete.
 */
import { useEffect, useState } from "preact/hooks";
import { type BindingInfo, del, type ExchangeInfo, get, put, rate, seg } from "../api";
import { BindForm, BindingList } from "../components/bindings";
import { VhostChoice } from "../components/declare";
import { Check, Select, TableEditor, Text, tableOf, useTableRows } from "../components/fields";
import { LoadError, Notice } from "../components/notice";
import { PagedList, usePagedList } from "../components/paged-list";
import { PublishForm } from "../components/publish-form";
import { StatsTable } from "../components/stats";
import type { Column } from "../components/table";
import { formatRate } from "../format";
import { useAction, useApi } from "../hooks";
import { href, navigate } from "../router";
import type { PageProps } from "./index";

/** A delayed exchange also needs the argument x-delayed-type (docs/queue-features.md). */
const TYPES = ["direct", "fanout", "topic", "headers", "x-delayed-message"];

export function ExchangesPage() {
  const list = usePagedList<ExchangeInfo>("exchanges", 100);
  const { vhost } = list;
  const columns: Column<ExchangeInfo>[] = [
    ...(vhost === ""
      ? [{ label: "Virtual host", sort: "vhost", cell: (e: ExchangeInfo) => e.vhost }]
      : []),
    {
      label: "Name",
      sort: "name",
      cell: (e) => (
        <a href={href("exchanges", e.vhost, e.name || "amq.default")} class="name">
          {e.name || "(AMQP default)"}
        </a>
      ),
    },
    { label: "Type", sort: "type", cell: (e) => e.type },
    {
      label: "Features",
      cell: (e) =>
        [
          e.durable && "D",
          e.auto_delete && "AD",
          e.internal && "I",
          Object.keys(e.arguments).length > 0 && "Args",
        ]
          .filter(Boolean)
          .join(" "),
    },
    {
      label: "Rate in",
      sort: "message_stats.publish_in_details.rate",
      numeric: true,
      cell: (e) => formatRate(rate(e.message_stats, "publish_in")),
    },
    {
      label: "Rate out",
      sort: "message_stats.publish_out_details.rate",
      numeric: true,
      cell: (e) => formatRate(rate(e.message_stats, "publish_out")),
    },
  ];
  return (
    <section>
      <h1>Exchanges</h1>
      <PagedList
        list={list}
        testId="exchanges"
        columns={columns}
        rowKey={(e) => `${e.vhost}\u0000${e.name}`}
        empty="No exchanges match."
      />
      <DeclareExchange defaultVhost={vhost || "/"} onDeclared={list.reload} />
    </section>
  );
}

function DeclareExchange({
  defaultVhost,
  onDeclared,
}: {
  defaultVhost: string;
  onDeclared: () => void;
}) {
  const [vhost, setVhost] = useState(defaultVhost);
  useEffect(() => setVhost(defaultVhost), [defaultVhost]);
  const [name, setName] = useState("");
  const [type, setType] = useState("direct");
  const [durable, setDurable] = useState(true);
  const [autoDelete, setAutoDelete] = useState(false);
  const [internal, setInternal] = useState(false);
  const [args, setArgs] = useTableRows();
  const action = useAction();
  const submit = async (event: Event) => {
    event.preventDefault();
    const ok = await action.run(async () => {
      await put(`/api/exchanges/${seg(vhost)}/${seg(name)}`, {
        type,
        durable,
        auto_delete: autoDelete,
        internal,
        arguments: tableOf(args),
      });
      return `Exchange '${name}' declared.`;
    });
    if (ok) {
      setName("");
      onDeclared();
    }
  };
  return (
    <form class="panel" onSubmit={submit} data-testid="declare-exchange">
      <h2>Add an exchange</h2>
      <VhostChoice value={vhost} onChange={setVhost} />
      <Text label="Name" name="exchange-name" value={name} onInput={setName} required />
      <Select label="Type" name="exchange-type" value={type} options={TYPES} onChange={setType} />
      <Check label="Durable" name="durable" checked={durable} onChange={setDurable} />
      <Check label="Auto delete" name="auto-delete" checked={autoDelete} onChange={setAutoDelete} />
      <Check label="Internal" name="internal" checked={internal} onChange={setInternal} />
      <TableEditor label="Arguments" name="arguments" rows={args} onChange={setArgs} />
      <button type="submit">Add exchange</button>
      <Notice message={action.message} />
    </form>
  );
}

export function ExchangePage({ args }: PageProps) {
  const [vhost = "/", routeName = ""] = args;
  const name = routeName === "amq.default" ? "" : routeName;
  const path = `/api/exchanges/${seg(vhost)}/${seg(name || "amq.default")}`;
  const exchange = useApi(() => get<ExchangeInfo>(path), [path], 5000);
  const out = useApi(() => get<BindingInfo[]>(`${path}/bindings/source`), [path]);
  const into = useApi(() => get<BindingInfo[]>(`${path}/bindings/destination`), [path]);
  const action = useAction();
  const e = exchange.data;
  const reloadBindings = () => {
    out.reload();
    into.reload();
  };
  return (
    <section>
      <h1>
        Exchange <span class="name">{name || "(AMQP default)"}</span>{" "}
        <small class="muted">in {vhost}</small>
      </h1>
      <LoadError error={exchange.error} />
      {e && (
        <div class="columns">
          <dl class="facts">
            <dt>Type</dt>
            <dd>{e.type}</dd>
            <dt>Durable</dt>
            <dd>{String(e.durable)}</dd>
            <dt>Auto delete</dt>
            <dd>{String(e.auto_delete)}</dd>
            <dt>Internal</dt>
            <dd>{String(e.internal)}</dd>
            <dt>Arguments</dt>
            <dd>
              <code>{JSON.stringify(e.arguments)}</code>
            </dd>
            {e.messages_delayed !== undefined && (
              <>
                <dt>Delayed messages</dt>
                <dd data-testid="messages-delayed">{e.messages_delayed}</dd>
              </>
            )}
          </dl>
          <StatsTable stats={e.message_stats} events={["publish_in", "publish_out"]} />
        </div>
      )}
      <BindingList
        title="Bindings from this exchange"
        testId="bindings-out"
        bindings={out.data ?? []}
        show="destination"
        onChange={reloadBindings}
      />
      <BindingList
        title="Bindings to this exchange"
        testId="bindings-in"
        bindings={into.data ?? []}
        show="source"
        onChange={reloadBindings}
      />
      {name !== "" && (
        <BindForm
          vhost={vhost}
          fixed={{ role: "source", exchange: name }}
          onBound={reloadBindings}
        />
      )}
      <PublishForm vhost={vhost} exchange={name} onPublished={exchange.reload} />
      {name !== "" && !name.startsWith("amq.") && (
        <div class="panel danger-zone">
          <h2>Delete</h2>
          <button
            type="button"
            class="danger"
            onClick={() => {
              if (!confirm(`Delete exchange '${name}'?`)) return;
              void action.run(async () => {
                await del(path);
                navigate("exchanges");
                return undefined;
              });
            }}
          >
            Delete exchange
          </button>
          <Notice message={action.message} />
        </div>
      )}
    </section>
  );
}

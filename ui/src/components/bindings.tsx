/** A list of bindings with unbind buttons, and a form that adds one. */
import { useState } from "preact/hooks";
import { type BindingInfo, del, post, seg } from "../api";
import { useAction } from "../hooks";
import { href } from "../router";
import { Select, TableEditor, Text, tableOf, useTableRows } from "./fields";
import { Notice } from "./notice";
import { Table } from "./table";

const kindLetter = (type: string) => (type === "exchange" ? "e" : type === "queue" ? "q" : "i");

export function bindingPath(b: BindingInfo): string {
  return `/api/bindings/${seg(b.vhost)}/e/${seg(b.source)}/${kindLetter(b.destination_type)}/${seg(b.destination)}/${seg(b.properties_key)}`;
}

function linkTo(vhost: string, type: string, name: string) {
  if (type === "queue") return <a href={href("queues", vhost, name)}>{name}</a>;
  if (type === "exchange")
    return <a href={href("exchanges", vhost, name)}>{name || "(default)"}</a>;
  return name;
}

export function BindingList({
  title,
  bindings,
  show,
  onChange,
  testId,
}: {
  title: string;
  bindings: readonly BindingInfo[];
  show: "source" | "destination";
  onChange: () => void;
  testId: string;
}) {
  const action = useAction();
  return (
    <div>
      <h2>{title}</h2>
      <Table
        testId={testId}
        rows={bindings}
        rowKey={(b) =>
          `${b.source}\u0000${b.destination_type}\u0000${b.destination}\u0000${b.properties_key}`
        }
        empty="No bindings."
        columns={[
          {
            label: show === "source" ? "From" : "To",
            cell: (b) =>
              show === "source"
                ? linkTo(b.vhost, "exchange", b.source)
                : linkTo(b.vhost, b.destination_type, b.destination),
          },
          ...(show === "destination"
            ? [{ label: "Type", cell: (b: BindingInfo) => b.destination_type }]
            : []),
          { label: "Routing key", cell: (b) => b.routing_key },
          { label: "Arguments", cell: (b) => JSON.stringify(b.arguments ?? {}) },
          {
            label: "",
            cell: (b) =>
              b.source === "" ? null : (
                <button
                  type="button"
                  class="danger"
                  onClick={() =>
                    action.run(async () => {
                      await del(bindingPath(b));
                      onChange();
                      return "Unbound.";
                    })
                  }
                >
                  Unbind
                </button>
              ),
          },
        ]}
      />
      <Notice message={action.message} />
    </div>
  );
}

/** Binds `fixed` (an exchange as source, or a queue as destination) to what the form names. */
export function BindForm({
  vhost,
  fixed,
  onBound,
}: {
  vhost: string;
  fixed:
    | { role: "source"; exchange: string }
    | { role: "destination"; type: "q" | "e"; name: string };
  onBound: () => void;
}) {
  const [other, setOther] = useState("");
  const [otherType, setOtherType] = useState<"q" | "e">("q");
  const [key, setKey] = useState("");
  const [args, setArgs] = useTableRows();
  const action = useAction();
  const submit = async (event: Event) => {
    event.preventDefault();
    const ok = await action.run(async () => {
      const path =
        fixed.role === "source"
          ? `/api/bindings/${seg(vhost)}/e/${seg(fixed.exchange)}/${otherType}/${seg(other)}`
          : `/api/bindings/${seg(vhost)}/e/${seg(other)}/${fixed.type}/${seg(fixed.name)}`;
      await post(path, { routing_key: key, arguments: tableOf(args) });
      return "Bound.";
    });
    if (ok) onBound();
  };
  return (
    <form class="panel" onSubmit={submit} data-testid="bind-form">
      <h2>
        {fixed.role === "source" ? "Add binding from this exchange" : "Add binding to this queue"}
      </h2>
      {fixed.role === "source" && (
        <Select
          label="Destination type"
          name="destination-type"
          value={otherType}
          options={[
            ["q", "Queue"],
            ["e", "Exchange"],
          ]}
          onChange={(value) => setOtherType(value as "q" | "e")}
        />
      )}
      <Text
        label={fixed.role === "source" ? "Destination" : "From exchange"}
        name="bind-other"
        value={other}
        onInput={setOther}
        required
      />
      <Text label="Routing key" name="bind-routing-key" value={key} onInput={setKey} />
      <TableEditor label="Arguments" name="bind-arguments" rows={args} onChange={setArgs} />
      <button type="submit">Bind</button>
      <Notice message={action.message} />
    </form>
  );
}

/** Administrators: virtual hosts (add, delete) and their limits (max-queues, max-connections). */
import { useState } from "preact/hooks";
import { del, get, put, seg } from "../api";
import { Select, Text } from "../components/fields";
import { LoadError, Notice } from "../components/notice";
import { Table } from "../components/table";
import { useAction, useApi } from "../hooks";
import { selectVhost } from "../state";

interface VhostInfo {
  name: string;
  description?: string;
  tags?: string[];
}
interface VhostLimits {
  vhost: string;
  value: Record<string, number>;
}

export function VhostsPage() {
  const vhosts = useApi(() => get<VhostInfo[]>("/api/vhosts"), []);
  const limits = useApi(() => get<VhostLimits[]>("/api/vhost-limits"), []);
  const [name, setName] = useState("");
  const [description, setDescription] = useState("");
  const action = useAction();
  const limitsOf = (vhost: string) => limits.data?.find((l) => l.vhost === vhost)?.value ?? {};

  const add = async (event: Event) => {
    event.preventDefault();
    const ok = await action.run(async () => {
      await put(`/api/vhosts/${seg(name)}`, { description });
      return `Virtual host '${name}' added.`;
    });
    if (ok) {
      setName("");
      setDescription("");
      vhosts.reload();
    }
  };
  return (
    <section>
      <h1>Virtual hosts</h1>
      <LoadError error={vhosts.error} />
      <Table
        testId="vhosts"
        rows={vhosts.data ?? []}
        rowKey={(v) => v.name}
        columns={[
          {
            label: "Name",
            cell: (v) => (
              <button
                type="button"
                class="link"
                onClick={() => {
                  selectVhost(v.name);
                  location.hash = "#/queues";
                }}
              >
                {v.name}
              </button>
            ),
          },
          { label: "Description", cell: (v) => v.description ?? "" },
          {
            label: "Limits",
            cell: (v) =>
              Object.entries(limitsOf(v.name))
                .map(([key, value]) => `${key}: ${value}`)
                .join(", "),
          },
          {
            label: "",
            cell: (v) => (
              <button
                type="button"
                class="danger"
                onClick={() => {
                  if (!confirm(`Delete virtual host '${v.name}' with everything in it?`)) return;
                  void action.run(async () => {
                    await del(`/api/vhosts/${seg(v.name)}`);
                    vhosts.reload();
                    return `Virtual host '${v.name}' deleted.`;
                  });
                }}
              >
                Delete
              </button>
            ),
          },
        ]}
      />
      <Notice message={action.message} />
      <form class="panel" onSubmit={add} data-testid="add-vhost">
        <h2>Add a virtual host</h2>
        <Text label="Name" name="vhost-name" value={name} onInput={setName} required />
        <Text
          label="Description"
          name="vhost-description"
          value={description}
          onInput={setDescription}
        />
        <button type="submit">Add virtual host</button>
      </form>
      <LimitForm
        vhosts={(vhosts.data ?? []).map((v) => v.name)}
        onChange={limits.reload}
        run={action.run}
      />
    </section>
  );
}

function LimitForm({
  vhosts,
  onChange,
  run,
}: {
  vhosts: string[];
  onChange: () => void;
  run: (action: () => Promise<string | undefined>) => Promise<boolean>;
}) {
  const [vhost, setVhost] = useState("");
  const [limit, setLimit] = useState("max-queues");
  const [value, setValue] = useState("");
  const chosen = vhost || vhosts[0] || "/";
  const path = `/api/vhost-limits/${seg(chosen)}/${limit}`;
  return (
    <form
      class="panel"
      data-testid="vhost-limit"
      onSubmit={(event) => {
        event.preventDefault();
        void run(async () => {
          await put(path, { value: Number(value) });
          onChange();
          return `Limit ${limit} of '${chosen}' set.`;
        });
      }}
    >
      <h2>Virtual host limits</h2>
      <Select
        label="Virtual host"
        name="limit-vhost"
        value={chosen}
        options={vhosts}
        onChange={setVhost}
      />
      <Select
        label="Limit"
        name="limit-name"
        value={limit}
        options={["max-queues", "max-connections"]}
        onChange={setLimit}
      />
      <Text
        label="Value"
        name="limit-value"
        type="number"
        value={value}
        onInput={setValue}
        required
      />
      <button type="submit">Set limit</button>{" "}
      <button
        type="button"
        onClick={() =>
          run(async () => {
            await del(path);
            onChange();
            return `Limit ${limit} of '${chosen}' cleared.`;
          })
        }
      >
        Clear limit
      </button>
    </form>
  );
}

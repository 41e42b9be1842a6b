/**
 * Administrators: users (add, tags, password, delete) and, per user, permissions and topic
 * permissions in each vhost.
 */
import { useState } from "preact/hooks";
import { del, get, put, seg } from "../api";
import { Text } from "../components/fields";
import { LoadError, Notice } from "../components/notice";
import { Table } from "../components/table";
import { useAction, useApi } from "../hooks";
import { href, navigate } from "../router";
import type { PageProps } from "./index";

interface UserInfo {
  name: string;
  tags: string[] | string;
}
interface Permission {
  user: string;
  vhost: string;
  configure: string;
  write: string;
  read: string;
}
interface TopicPermission {
  user: string;
  vhost: string;
  exchange: string;
  write: string;
  read: string;
}

const tagsOf = (user: UserInfo) => (Array.isArray(user.tags) ? user.tags.join(", ") : user.tags);

export function UsersPage() {
  const users = useApi(() => get<UserInfo[]>("/api/users"), []);
  const [name, setName] = useState("");
  const [password, setPassword] = useState("");
  const [tags, setTags] = useState("");
  const action = useAction();
  const submit = async (event: Event) => {
    event.preventDefault();
    const ok = await action.run(async () => {
      await put(`/api/users/${seg(name)}`, { password, tags });
      return `User '${name}' added.`;
    });
    if (ok) {
      setName("");
      setPassword("");
      setTags("");
      users.reload();
    }
  };
  return (
    <section>
      <h1>Users</h1>
      <LoadError error={users.error} />
      <Table
        testId="users"
        rows={users.data ?? []}
        rowKey={(u) => u.name}
        columns={[
          { label: "Name", cell: (u) => <a href={href("users", u.name)}>{u.name}</a> },
          { label: "Tags", cell: tagsOf },
        ]}
      />
      <form class="panel" onSubmit={submit} data-testid="add-user">
        <h2>Add a user</h2>
        <Text label="Username" name="new-username" value={name} onInput={setName} required />
        <Text
          label="Password"
          name="new-password"
          type="password"
          value={password}
          onInput={setPassword}
          required
        />
        <Text
          label="Tags (comma-separated: administrator, monitoring, management, policymaker)"
          name="new-tags"
          value={tags}
          onInput={setTags}
        />
        <button type="submit">Add user</button>
        <Notice message={action.message} />
      </form>
    </section>
  );
}

export function UserPage({ args }: PageProps) {
  const [name = ""] = args;
  const path = `/api/users/${seg(name)}`;
  const user = useApi(() => get<UserInfo>(path), [path]);
  const permissions = useApi(() => get<Permission[]>(`${path}/permissions`), [path]);
  const topics = useApi(() => get<TopicPermission[]>(`${path}/topic-permissions`), [path]);
  const vhosts = useApi(() => get<{ name: string }[]>("/api/vhosts"), []);
  const vhostNames = (vhosts.data ?? []).map((v) => v.name);
  const action = useAction();
  const [tags, setTags] = useState<string | null>(null);
  const [password, setPassword] = useState("");

  const update = async (event: Event) => {
    event.preventDefault();
    await action.run(async () => {
      const body: Record<string, unknown> = { tags: tags ?? (user.data ? tagsOf(user.data) : "") };
      if (password) body.password = password;
      await put(path, body);
      setPassword("");
      user.reload();
      return "User updated.";
    });
  };

  return (
    <section>
      <h1>
        User <span class="name">{name}</span>
      </h1>
      <LoadError error={user.error} />
      {user.data && (
        <form class="panel" onSubmit={update} data-testid="update-user">
          <h2>Tags and password</h2>
          <Text label="Tags" name="tags" value={tags ?? tagsOf(user.data)} onInput={setTags} />
          <Text
            label="New password (empty keeps the current one)"
            name="password"
            type="password"
            value={password}
            onInput={setPassword}
          />
          <button type="submit">Update user</button>
        </form>
      )}
      <h2>Permissions</h2>
      <Table
        testId="permissions"
        rows={permissions.data ?? []}
        rowKey={(p) => p.vhost}
        empty="No permissions."
        columns={[
          { label: "Virtual host", cell: (p) => p.vhost },
          { label: "Configure", cell: (p) => <code>{p.configure}</code> },
          { label: "Write", cell: (p) => <code>{p.write}</code> },
          { label: "Read", cell: (p) => <code>{p.read}</code> },
          {
            label: "",
            cell: (p) => (
              <button
                type="button"
                class="danger"
                onClick={() =>
                  action.run(async () => {
                    await del(`/api/permissions/${seg(p.vhost)}/${seg(name)}`);
                    permissions.reload();
                    return "Permissions cleared.";
                  })
                }
              >
                Clear
              </button>
            ),
          },
        ]}
      />
      <PermissionForm
        vhosts={vhostNames}
        fields={["configure", "write", "read"]}
        title="Set permission"
        testId="set-permission"
        onSubmit={(vhost, values) =>
          action.run(async () => {
            await put(`/api/permissions/${seg(vhost)}/${seg(name)}`, values);
            permissions.reload();
            return `Permissions in '${vhost}' set.`;
          })
        }
      />
      <h2>Topic permissions</h2>
      <Table
        testId="topic-permissions"
        rows={topics.data ?? []}
        rowKey={(p) => `${p.vhost}\u0000${p.exchange}`}
        empty="No topic permissions."
        columns={[
          { label: "Virtual host", cell: (p) => p.vhost },
          { label: "Exchange", cell: (p) => p.exchange },
          { label: "Write", cell: (p) => <code>{p.write}</code> },
          { label: "Read", cell: (p) => <code>{p.read}</code> },
          {
            label: "",
            cell: (p) => (
              <button
                type="button"
                class="danger"
                onClick={() =>
                  action.run(async () => {
                    await del(`/api/topic-permissions/${seg(p.vhost)}/${seg(name)}`);
                    topics.reload();
                    return "Topic permissions cleared.";
                  })
                }
              >
                Clear
              </button>
            ),
          },
        ]}
      />
      <PermissionForm
        vhosts={vhostNames}
        fields={["exchange", "write", "read"]}
        title="Set topic permission"
        testId="set-topic-permission"
        onSubmit={(vhost, values) =>
          action.run(async () => {
            await put(`/api/topic-permissions/${seg(vhost)}/${seg(name)}`, values);
            topics.reload();
            return `Topic permissions in '${vhost}' set.`;
          })
        }
      />
      <Notice message={action.message} />
      <div class="panel danger-zone">
        <h2>Delete this user</h2>
        <button
          type="button"
          class="danger"
          onClick={() => {
            if (!confirm(`Delete user '${name}'?`)) return;
            void action.run(async () => {
              await del(path);
              navigate("users");
              return undefined;
            });
          }}
        >
          Delete user
        </button>
      </div>
    </section>
  );
}

function PermissionForm({
  vhosts,
  fields,
  title,
  testId,
  onSubmit,
}: {
  vhosts: readonly string[];
  fields: readonly string[];
  title: string;
  testId: string;
  onSubmit: (vhost: string, values: Record<string, string>) => Promise<boolean>;
}) {
  const [vhost, setVhost] = useState("");
  const [values, setValues] = useState<Record<string, string>>(() =>
    Object.fromEntries(fields.map((f) => [f, f === "exchange" ? "amq.topic" : ".*"])),
  );
  const chosen = vhost || vhosts[0] || "/";
  return (
    <form
      class="panel"
      data-testid={testId}
      onSubmit={(event) => {
        event.preventDefault();
        void onSubmit(chosen, values);
      }}
    >
      <h3>{title}</h3>
      <label class="field">
        <span>Virtual host</span>
        <select
          name="permission-vhost"
          value={chosen}
          onChange={(event) => setVhost((event.target as HTMLSelectElement).value)}
        >
          {vhosts.map((v) => (
            <option key={v} value={v}>
              {v}
            </option>
          ))}
        </select>
      </label>
      {fields.map((field) => (
        <Text
          key={field}
          label={field[0]?.toUpperCase() + field.slice(1)}
          name={`permission-${field}`}
          value={values[field] ?? ""}
          onInput={(value) => setValues({ ...values, [field]: value })}
        />
      ))}
      <button type="submit">{title}</button>
    </form>
  );
}

/**
 * Notification users (an extension: docs/notifications.md) of the default vhost, adding one,
 * and a read-only view of a user's inbox (what /notifications/{id}/inbox answers an
 * administrator; nothing is marked seen or read by looking).
 */
import { useState } from "preact/hooks";
import { get, put, seg } from "../api";
import { Text } from "../components/fields";
import { LoadError, Notice } from "../components/notice";
import { Table } from "../components/table";
import { useAction, useApi } from "../hooks";
import { href } from "../router";
import type { PageProps } from "./index";

interface NotificationUser {
  id: number;
  name: string;
  vhost?: string;
}
interface Notification {
  id: number | string;
  from: { id: number; name: string } | null;
  message: string;
  created_at: string | number;
  seen_at: string | number | null;
  read_at: string | number | null;
  archived_at: string | number | null;
}

const stateOf = (n: Notification) =>
  n.archived_at ? "archived" : n.read_at ? "read" : n.seen_at ? "seen" : "new";

const VHOST = "/";

export function NotificationsPage({ args }: PageProps) {
  const [userId] = args;
  const users = useApi(() => get<NotificationUser[]>(`/api/notification-users/${seg(VHOST)}`), []);
  const [id, setId] = useState("");
  const [name, setName] = useState("");
  const action = useAction();
  const add = async (event: Event) => {
    event.preventDefault();
    const ok = await action.run(async () => {
      await put(`/api/notification-users/${seg(VHOST)}/${seg(id)}`, { name });
      return `Notification user ${id} added.`;
    });
    if (ok) {
      setId("");
      setName("");
      users.reload();
    }
  };
  return (
    <section>
      <h1>Notifications</h1>
      <LoadError error={users.error} />
      <Table
        testId="notification-users"
        rows={users.data ?? []}
        rowKey={(u) => String(u.id)}
        empty="No notification users."
        columns={[
          { label: "Id", numeric: true, cell: (u) => u.id },
          {
            label: "Name",
            cell: (u) => <a href={href("notifications", String(u.id))}>{u.name}</a>,
          },
        ]}
      />
      <form class="panel" onSubmit={add} data-testid="add-notification-user">
        <h2>Add a notification user</h2>
        <Text label="Id" name="notification-id" type="number" value={id} onInput={setId} required />
        <Text label="Name" name="notification-name" value={name} onInput={setName} required />
        <button type="submit">Add user</button>
        <Notice message={action.message} />
      </form>
      {userId !== undefined && <Inbox userId={userId} />}
    </section>
  );
}

function Inbox({ userId }: { userId: string }) {
  const path = `/notifications/${seg(userId)}`;
  const inbox = useApi(
    () => get<{ notifications: Notification[] }>(`${path}/inbox?limit=50`),
    [path],
    5000,
  );
  const counts = useApi(() => get<Record<string, number>>(`${path}/counts`), [path], 5000);
  return (
    <div data-testid="inbox">
      <h2>Inbox of user {userId} (read-only)</h2>
      <LoadError error={inbox.error} />
      {counts.data && (
        <p class="muted">
          {Object.entries(counts.data)
            .map(([key, value]) => `${key}: ${value}`)
            .join(", ")}
        </p>
      )}
      <Table
        rows={inbox.data?.notifications ?? []}
        rowKey={(n) => String(n.id)}
        empty="No notifications."
        columns={[
          { label: "From", cell: (n) => n.from?.name ?? "" },
          { label: "Message", cell: (n) => n.message },
          { label: "State", cell: stateOf },
          { label: "At", cell: (n) => String(n.created_at) },
        ]}
      />
    </div>
  );
}

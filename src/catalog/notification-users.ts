/**
 * The notification app's users (docs/notifications.md) in a vhost's catalog: each has an inbox
 * object bound to the `notifications` exchange by the user's id.
 */
import { fail, type Result } from "../errors";
import { exchangeStub, inboxStub } from "../gateway/stubs";
import { describe } from "../protocol/names";
import type { NotificationUser } from "../protocol/notification";
import { bind } from "./bind";
import { removeBindings } from "./cascade";
import { type CatalogContext, notFound } from "./catalog-context";
import { notificationsExchange } from "./notification-exchange";

/**
 * Creates notification users, or renames them: records each, configures its inbox object and
 * binds the inbox to the `notifications` exchange by the user's id (declaring the exchange,
 * direct and durable, the first time). The inbox and exchange calls run in parallel, so a
 * thousand users take one round of calls, not a thousand. With `onlyIfAbsent` an existing user
 * is left as it is (local development's idempotent seeding). Answers the ids it created.
 */
export async function declareInboxes(
  catalog: CatalogContext,
  vhost: string,
  users: readonly NotificationUser[],
  options: { onlyIfAbsent?: boolean },
): Promise<Result<{ created: number[] }>> {
  const { env, store } = catalog;
  const exchange = notificationsExchange(vhost);
  // An existing user is left alone unless renamed, or unless its binding was removed (say,
  // with the notifications exchange): declaring it again repairs that.
  const changes = users.filter((user) => {
    const current = store.getInbox(user.id);
    const unchanged = current && (options.onlyIfAbsent || current.name === user.name);
    return !(unchanged && inboxBound(catalog, vhost, exchange.name, user.id));
  });
  const created = changes.filter((user) => !store.getInbox(user.id)).map((u) => u.id);
  if (changes.length === 0) return { ok: true, created };
  const existing = store.getExchange(exchange.name);
  if (existing && existing.type !== "direct" && existing.type !== "topic") {
    // A fanout or headers exchange would hand every user's notifications to every inbox.
    return fail(
      "bad_request",
      `${describe("exchange", exchange.name, vhost)} is ${existing.type}: inboxes need a direct or topic exchange`,
    );
  }
  if (!existing) {
    await exchangeStub(env, vhost, exchange.name).configure(exchange);
    store.putExchange(exchange);
  }
  await Promise.all(changes.map((user) => inboxStub(env, vhost, String(user.id)).configure(user)));
  for (const user of changes) store.putInbox(user);
  const bound = await Promise.all(
    changes.map((user) =>
      bind(catalog, vhost, {
        source: exchange.name,
        destinationType: "inbox",
        destination: String(user.id),
        routingKey: String(user.id),
        arguments: {},
      }),
    ),
  );
  const failed = bound.find((result) => !result.ok);
  return failed && !failed.ok ? failed : { ok: true, created };
}

/** Deletes a user: its bindings, its inbox object's notifications and sockets, its record. */
export async function deleteInbox(
  catalog: CatalogContext,
  vhost: string,
  id: number,
): Promise<Result<object>> {
  const { env, store } = catalog;
  if (!store.getInbox(id)) {
    return notFound();
  }
  const bindings = store.listBindings(vhost, { destinationType: "inbox", destination: String(id) });
  await removeBindings(catalog, vhost, bindings);
  await inboxStub(env, vhost, String(id)).destroy();
  store.deleteInbox(id);
  return { ok: true };
}

function inboxBound(catalog: CatalogContext, vhost: string, exchange: string, id: number): boolean {
  return catalog.store
    .listBindings(vhost, { source: exchange, destinationType: "inbox", destination: String(id) })
    .some((binding) => binding.routing_key === String(id));
}

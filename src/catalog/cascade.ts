/**
 * Deletions and what they take with them: deleting an exchange removes its bindings both ways,
 * deleting a queue its incoming bindings, and removing a source exchange's last binding deletes
 * an auto-delete exchange, which may in turn unbind it from others (RabbitMQ: "exchange is
 * deleted when last queue is unbound from it").
 */
import { fail, type Result } from "../errors";
import { exchangeStub, queueStub, streamStub } from "../gateway/stubs";
import type { Binding, DestinationType } from "../protocol/bindings";
import { isBuiltinExchange } from "../protocol/builtin-exchanges";
import { describe } from "../protocol/names";
import { isStreamDeclaration } from "../protocol/stream";
import { type BindingFilter, bindingId } from "../storage/catalog-store";
import { type CatalogContext, notFound } from "./catalog-context";

export async function deleteExchange(
  catalog: CatalogContext,
  vhost: string,
  name: string,
  options: { ifUnused: boolean },
): Promise<Result<object>> {
  const { env, store } = catalog;
  if (!store.getExchange(name)) {
    return notFound();
  }
  if (isBuiltinExchange(name)) {
    return fail(
      "access_refused",
      `deletion of system ${describe("exchange", name, vhost)} refused`,
    );
  }
  if (options.ifUnused && store.countBindingsFrom(name) > 0) {
    return fail("bad_request", `PRECONDITION_FAILED - ${describe("exchange", name, vhost)} in use`);
  }
  await exchangeStub(env, vhost, name).destroy();
  const outgoing = store.listBindings(vhost, { source: name });
  const incoming = store.listBindings(vhost, { destinationType: "exchange", destination: name });
  for (const binding of outgoing) store.deleteBinding(binding);
  await removeBindings(catalog, vhost, incoming);
  store.deleteExchange(name);
  return { ok: true };
}

/** Deletes a queue (or stream) and its bindings; the queue object enforces if-empty/if-unused. */
export async function deleteQueue(
  catalog: CatalogContext,
  vhost: string,
  name: string,
  options: { ifEmpty: boolean; ifUnused: boolean },
): Promise<Result<object>> {
  const { env, store } = catalog;
  const queue = store.getQueue(name);
  if (!queue) {
    return notFound();
  }
  const destroyed = isStreamDeclaration(queue.arguments)
    ? await streamStub(env, vhost, name).destroy()
    : await queueStub(env, vhost, name).destroy(options);
  if (!destroyed.ok && destroyed.code !== "not_found") {
    return destroyed;
  }
  const bindings = store.listBindings(vhost, { destinationType: "queue", destination: name });
  await removeBindings(catalog, vhost, bindings);
  store.deleteQueue(name);
  return { ok: true };
}

export async function unbind(
  catalog: CatalogContext,
  vhost: string,
  filter: Required<Omit<BindingFilter, "destinationType">> & { destinationType: DestinationType },
): Promise<Result<object>> {
  const bindings = catalog.store.listBindings(vhost, filter);
  if (bindings.length === 0) {
    return notFound();
  }
  await removeBindings(catalog, vhost, bindings);
  return { ok: true };
}

/**
 * Removes bindings from the catalog and from their source exchanges (one call per source), then
 * deletes any auto-delete exchange left with no bindings.
 */
export async function removeBindings(
  catalog: CatalogContext,
  vhost: string,
  bindings: readonly Binding[],
): Promise<void> {
  const { env, store } = catalog;
  const bySource = new Map<string, Binding[]>();
  for (const binding of bindings) {
    const list = bySource.get(binding.source);
    if (list) list.push(binding);
    else bySource.set(binding.source, [binding]);
  }
  for (const [source, list] of bySource) {
    await exchangeStub(env, vhost, source).unbind(list.map(bindingId));
    for (const binding of list) store.deleteBinding(binding);
    const exchange = store.getExchange(source);
    if (exchange?.auto_delete && store.countBindingsFrom(source) === 0) {
      await exchangeStub(env, vhost, source).destroy();
      const incoming = store.listBindings(vhost, {
        destinationType: "exchange",
        destination: source,
      });
      store.deleteExchange(source);
      await removeBindings(catalog, vhost, incoming);
    }
  }
}

/**
 * Creating a binding: checks both ends exist in the catalog and the arguments compile for the
 * source's exchange type, hands the binding to the source exchange object, then records it.
 * Nothing is stored unless every step succeeds.
 */
import { fail, type Result } from "../errors";
import { exchangeStub } from "../gateway/stubs";
import {
  type Binding,
  type BindRequest,
  type DestinationType,
  propertiesKey,
} from "../protocol/bindings";
import { DEFAULT_EXCHANGE, describe } from "../protocol/names";
import { parseUserId } from "../protocol/notification";
import { isStreamDeclaration } from "../protocol/stream";
import type { DestinationKind } from "../routing/binding-table";
import { routingTypeOf } from "../routing/registry";
import { bindingId, type CatalogStore } from "../storage/catalog-store";
import { type CatalogContext, notFound } from "./catalog-context";

export async function bind(
  { env, store }: CatalogContext,
  vhost: string,
  request: BindRequest,
): Promise<Result<{ binding: Binding }>> {
  if (request.source === DEFAULT_EXCHANGE || request.destination === DEFAULT_EXCHANGE) {
    return fail(
      "access_refused",
      `operation not permitted on the default ${describe("exchange", DEFAULT_EXCHANGE, vhost)}`,
    );
  }
  const source = store.getExchange(request.source);
  if (!source || !destinationExists(store, request.destinationType, request.destination)) {
    return notFound();
  }
  // Validate before anything is stored: an invalid x-match must leave no trace.
  const compiled = routingTypeOf(source).compile(request.routingKey, request.arguments);
  if (!compiled.ok) {
    return fail("bad_request", compiled.reason);
  }
  const binding: Binding = {
    source: request.source,
    vhost,
    destination: request.destination,
    destination_type: request.destinationType,
    routing_key: request.routingKey,
    arguments: request.arguments,
    properties_key: await propertiesKey(request.routingKey, request.arguments),
  };
  const bound = await exchangeStub(env, vhost, binding.source).bind({
    id: bindingId(binding),
    destination: { kind: destinationKind(store, binding), name: binding.destination },
    routingKey: binding.routing_key,
    arguments: binding.arguments,
  });
  if (!bound.ok) {
    return bound;
  }
  store.putBinding(binding);
  return { ok: true, binding };
}

/** The exchange delivers to a stream queue's log object, not to a queue object. */
function destinationKind(store: CatalogStore, binding: Binding): DestinationKind {
  const queue = binding.destination_type === "queue" && store.getQueue(binding.destination);
  return queue && isStreamDeclaration(queue.arguments) ? "stream" : binding.destination_type;
}

function destinationExists(store: CatalogStore, type: DestinationType, name: string): boolean {
  switch (type) {
    case "queue":
      return store.getQueue(name) !== undefined;
    case "exchange":
      return store.getExchange(name) !== undefined;
    case "inbox": {
      const id = parseUserId(name);
      return id !== null && store.getInbox(id) !== undefined;
    }
  }
}

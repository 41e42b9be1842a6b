/**
 * Direct exchange: a binding matches when its binding key equals the routing key exactly
 * (byte-for-byte, case-sensitive), as in RabbitMQ's rabbit_exchange_type_direct. Binding
 * arguments play no part in direct routing, so they are accepted and ignored.
 */
import type { ExchangeType, RoutableMessage, RoutingIndex } from "./exchange-type";

/** A compiled direct binding is just its key. */
export type DirectBinding = string;

class DirectIndex implements RoutingIndex<DirectBinding> {
  /** Routing key to the ids bound with it: one lookup per publish, whatever the binding count. */
  private readonly byKey = new Map<string, Set<string>>();
  /** Id to key, so that remove does not have to scan every key. */
  private readonly keyOf = new Map<string, string>();

  get size(): number {
    return this.keyOf.size;
  }

  add(id: string, key: DirectBinding): void {
    // Ids are unique per index: adding an existing id rebinds it rather than duplicating it.
    this.remove(id);
    let ids = this.byKey.get(key);
    if (ids === undefined) {
      ids = new Set();
      this.byKey.set(key, ids);
    }
    ids.add(id);
    this.keyOf.set(id, key);
  }

  remove(id: string): void {
    const key = this.keyOf.get(id);
    if (key === undefined) return;
    this.keyOf.delete(id);
    const ids = this.byKey.get(key);
    if (ids === undefined) return;
    ids.delete(id);
    // Drop empty sets so the map's size tracks live bindings only.
    if (ids.size === 0) this.byKey.delete(key);
  }

  match(message: RoutableMessage, out: Set<string>): void {
    const ids = this.byKey.get(message.routingKey);
    if (ids === undefined) return;
    for (const id of ids) out.add(id);
  }
}

export const directExchange: ExchangeType<DirectBinding> = {
  name: "direct",
  compile(bindingKey) {
    return { ok: true, compiled: bindingKey };
  },
  createIndex() {
    return new DirectIndex();
  },
};

/**
 * Fanout exchange: every binding matches every message. RabbitMQ's rabbit_exchange_type_fanout
 * ignores both the routing key and the binding key, and binding arguments.
 */
import type { ExchangeType, RoutableMessage, RoutingIndex } from "./exchange-type";

/** Nothing about a fanout binding affects routing, so its compiled form carries no data. */
export type FanoutBinding = null;

class FanoutIndex implements RoutingIndex<FanoutBinding> {
  private readonly ids = new Set<string>();

  get size(): number {
    return this.ids.size;
  }

  add(id: string, _compiled: FanoutBinding): void {
    this.ids.add(id);
  }

  remove(id: string): void {
    this.ids.delete(id);
  }

  match(_message: RoutableMessage, out: Set<string>): void {
    for (const id of this.ids) out.add(id);
  }
}

export const fanoutExchange: ExchangeType<FanoutBinding> = {
  name: "fanout",
  compile() {
    return { ok: true, compiled: null };
  },
  createIndex() {
    return new FanoutIndex();
  },
};

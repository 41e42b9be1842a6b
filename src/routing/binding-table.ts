/**
 * One exchange's bindings, compiled by its type once when bound, answering "where does this
 * message go?" per publish. Pure: the exchange object owns persistence and the network.
 *
 * The alternate exchange is applied here, as RabbitMQ's rabbit_exchange:route does per exchange:
 * when an exchange's own bindings match nothing, the message goes to its alternate exchange.
 */
import type { ExchangeType, FieldTable, RoutableMessage, RoutingIndex } from "./exchange-type";

/**
 * Where a binding leads: a queue, another exchange, a user's notification inbox, or a stream
 * queue's log (listed as a queue by the management API).
 */
export type DestinationKind = "queue" | "exchange" | "inbox" | "stream";

export interface Destination {
  readonly kind: DestinationKind;
  readonly name: string;
}

export interface RouteResult {
  readonly queues: string[];
  readonly exchanges: string[];
  readonly inboxes: string[];
  readonly streams: string[];
}

export class BindingTable {
  private readonly index: RoutingIndex<unknown>;
  private readonly destinations = new Map<string, Destination>();
  private readonly matched = new Set<string>();

  constructor(
    private readonly type: ExchangeType,
    private readonly alternateExchange: string | undefined,
  ) {
    this.index = type.createIndex();
  }

  /** Compiles and adds a binding; an invalid argument comes back as a reason. */
  add(id: string, destination: Destination, bindingKey: string, args: FieldTable): string | null {
    const compiled = this.type.compile(bindingKey, args);
    if (!compiled.ok) {
      return compiled.reason;
    }
    if (this.destinations.has(id)) {
      this.index.remove(id);
    }
    this.index.add(id, compiled.compiled);
    this.destinations.set(id, destination);
    return null;
  }

  remove(id: string): void {
    if (this.destinations.delete(id)) {
      this.index.remove(id);
    }
  }

  get size(): number {
    return this.destinations.size;
  }

  route(message: RoutableMessage): RouteResult {
    const matched = this.matched;
    matched.clear();
    this.index.match(message, matched);
    const found = {
      queue: new Set<string>(),
      exchange: new Set<string>(),
      inbox: new Set<string>(),
      stream: new Set<string>(),
    };
    for (const id of matched) {
      const destination = this.destinations.get(id);
      if (destination) found[destination.kind].add(destination.name);
    }
    matched.clear();
    const none =
      found.queue.size === 0 &&
      found.exchange.size === 0 &&
      found.inbox.size === 0 &&
      found.stream.size === 0;
    if (none && this.alternateExchange !== undefined) {
      found.exchange.add(this.alternateExchange);
    }
    return {
      queues: [...found.queue],
      exchanges: [...found.exchange],
      inboxes: [...found.inbox],
      streams: [...found.stream],
    };
  }
}

/**
 * What became of one published message: stored in at least one destination (`true`), routed
 * nowhere (`false`), held by a delayed exchange to be routed when due (`"delayed"`: stored, its
 * destinations unknown until then), or refused by a full queue (x-overflow reject-publish /
 * reject-publish-dlx).
 * A refusal wins over the copies stored elsewhere: RabbitMQ nacks a publish when any queue it was
 * routed to refused it, although the other queues keep their copies.
 */
export interface Refused {
  readonly refused: string;
}

/** A message a delayed exchange stored for later routing (x-delay, docs/queue-features.md). */
export const DELAYED = "delayed";

export type Routed = boolean | typeof DELAYED | Refused;

/**
 * Whether the broker now keeps the message: stored in a destination, or held by a delayed
 * exchange (what a publisher confirm and HTTP `routed: true` promise).
 */
export function isStored(outcome: Routed | undefined): boolean {
  return outcome === true || outcome === DELAYED;
}

/** RabbitMQ's management API answers a refused single publish with this reason (400). */
export const REJECTED_REASON = "rejected Unable to publish message. Check queue limits.";

/** Why a queue refused a message, per message over HTTP batches and producer sockets. */
export function refusedBy(queue: string, vhost: string): Refused {
  return {
    refused: `queue '${queue}' in vhost '${vhost}' refused the message: its length limit is reached (x-overflow reject-publish)`,
  };
}

/** The nack code a producer socket answers a refused message with. */
export const REFUSED_CODE = "rejected";

export function isRefused(outcome: Routed | undefined): outcome is Refused {
  return typeof outcome === "object" && outcome !== null;
}

/** One message's outcome at one more destination, folded into what it had. */
export function combineRouted(soFar: Routed, next: Routed): Routed {
  if (isRefused(soFar)) return soFar;
  if (isRefused(next)) return next;
  if (soFar === true || next === true) return true;
  return soFar || next;
}

/**
 * A queue's consumers as the management API shows them: RabbitMQ's `consumer_details` on the
 * queue page, and the rows /api/consumers and /api/channels are built from.
 */
import type { Consumer } from "./consumers";

export interface ConsumerInfo {
  readonly connection: string;
  readonly tag: string;
  readonly prefetch: number;
  readonly ackRequired: boolean;
  readonly exclusive: boolean;
  readonly unacked: number;
}

export interface ConsumerDetail {
  readonly consumer_tag: string;
  readonly ack_required: boolean;
  readonly prefetch_count: number;
  readonly exclusive: boolean;
  readonly active: boolean;
  readonly messages_unacknowledged: number;
  readonly channel_details: { readonly connection_name: string; readonly user: string };
}

/**
 * `users` maps a connection to the user that opened it; with a single active consumer only the
 * first registered one is active.
 */
export function consumerDetails(
  consumers: readonly Consumer[],
  users: ReadonlyMap<string, string>,
  singleActive: boolean,
): ConsumerDetail[] {
  return consumers.map((consumer, index) => ({
    consumer_tag: consumer.tag,
    ack_required: !consumer.autoAck,
    prefetch_count: consumer.prefetch,
    exclusive: consumer.exclusive,
    active: !singleActive || index === 0,
    messages_unacknowledged: consumer.unacked,
    channel_details: {
      connection_name: consumer.connection,
      user: users.get(consumer.connection) ?? "",
    },
  }));
}

export function consumerInfo(consumers: readonly Consumer[]): ConsumerInfo[] {
  return consumers.map((consumer) => ({
    connection: consumer.connection,
    tag: consumer.tag,
    prefetch: consumer.prefetch,
    ackRequired: !consumer.autoAck,
    exclusive: consumer.exclusive,
    unacked: consumer.unacked,
  }));
}

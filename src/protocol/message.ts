/** A message as it travels from the Worker through an exchange into a queue. */
import type { BasicProperties } from "./properties";

export interface PublishedMessage {
  /** The exchange the producer published to (kept through exchange-to-exchange hops). */
  readonly exchange: string;
  readonly routingKey: string;
  readonly properties: BasicProperties;
  readonly body: Uint8Array;
  /**
   * Set on the copy a queue sends to its dead-letter exchange: the destination queue applies
   * RabbitMQ's cycle rule to it (src/protocol/dead-letter.ts). Never stored.
   */
  readonly deadLettered?: true;
}

/** A message as a queue hands it out. */
export interface StoredMessage extends PublishedMessage {
  readonly seq: number;
  readonly redelivered: boolean;
  readonly deliveryCount: number;
}

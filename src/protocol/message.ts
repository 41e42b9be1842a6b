/** A message as it travels from the Worker through an exchange into a queue. */
import type { BasicProperties } from "./properties";

export interface PublishedMessage {
  /** The exchange the producer published to (kept through exchange-to-exchange hops). */
  readonly exchange: string;
  readonly routingKey: string;
  readonly properties: BasicProperties;
  readonly body: Uint8Array;
}

/** A message as a queue hands it out. */
export interface StoredMessage extends PublishedMessage {
  readonly seq: number;
  readonly redelivered: boolean;
  readonly deliveryCount: number;
}

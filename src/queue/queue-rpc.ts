/**
 * What the queue object's RPC methods take and answer (the Worker's side calls them through
 * src/gateway/stubs.ts): typed results, mapped to HTTP in one place (src/errors.ts).
 */
import type { Result } from "../errors";
import type { StoredMessage } from "../protocol/message";
import type { Leased, Settlement } from "./queue-engine";

export type GetAckMode =
  | "ack_requeue_true"
  | "reject_requeue_true"
  | "ack_requeue_false"
  | "reject_requeue_false";

export type EnqueueResult = Result<{ stored: number }>;
export type GetResult = Result<{ messages: (StoredMessage & { remaining: number })[] }>;
export type PullResult = Result<{ messages: Leased[] }>;
export type SettleResult = Result<{ results: Settlement[] }>;

export interface LeaseSettlement {
  readonly lease: string;
  readonly outcome: "ack" | "requeue" | "drop";
  readonly delayMs: number;
}

/** WebSocket close code for a connection closed by an operator: 4000 + AMQP's 320. */
export const CONNECTION_FORCED = 4320;

/**
 * x-overflow `reject-publish` and `reject-publish-dlx`: which messages of a publish batch a full
 * queue refuses. RabbitMQ 3.10 (rabbit_amqqueue_process:will_overflow) refuses a message when
 * taking it would make the ready messages exceed x-max-length, or their body bytes exceed
 * x-max-length-bytes; the check runs before the message is offered to consumers, and each message
 * of a batch is checked after the ones before it were taken. Pure: the engine applies the answer.
 */
import { OVERFLOW_MODES } from "../protocol/declarations";
import type { PublishedMessage } from "../protocol/message";

export type OverflowMode = (typeof OVERFLOW_MODES)[number];

export function isOverflowMode(value: unknown): value is OverflowMode {
  return (OVERFLOW_MODES as readonly unknown[]).includes(value);
}

export interface OverflowState {
  readonly ready: number;
  readonly readyBytes: number;
  /**
   * Deliveries the consumers can take at once when nothing is ready: RabbitMQ hands each message
   * to a waiting consumer before the next arrives, so those never count as ready.
   */
  readonly room: number;
}

export interface Limits {
  readonly maxLength: number | undefined;
  readonly maxLengthBytes: number | undefined;
}

/** The indexes of the messages the queue refuses, in order (empty: every message is taken). */
export function refusedByLimits(
  messages: readonly PublishedMessage[],
  state: OverflowState,
  { maxLength, maxLengthBytes }: Limits,
): number[] {
  if (maxLength === undefined && maxLengthBytes === undefined) return [];
  let ready = state.ready;
  let bytes = state.readyBytes;
  let room = state.ready === 0 ? state.room : 0;
  const refused: number[] = [];
  messages.forEach((message, index) => {
    const size = message.body.byteLength;
    // Checked first, as RabbitMQ does: x-max-length 0 refuses even what a consumer would take.
    const over =
      (maxLength !== undefined && ready + 1 > maxLength) ||
      (maxLengthBytes !== undefined && bytes + size > maxLengthBytes);
    if (over) {
      refused.push(index);
      return;
    }
    if (room > 0) {
      room--;
      return;
    }
    ready++;
    bytes += size;
  });
  return refused;
}

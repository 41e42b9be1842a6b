/**
 * Round-trip barriers: "nothing (more) arrived" is checked by sending a frame whose answer can
 * only come after the earlier frames (and what they caused) were handled, never by sleeping.
 * Once the answer is back, whatever the broker was going to send before it is in `frames`.
 *
 * - consumer sockets: the queue object handles frames one at a time, in arrival order, in one
 *   turn chain with its access checks and closes (src/runtime/hibernating-object.ts), and sends
 *   each frame's deliveries before it takes the next; a request answered before the barrier was
 *   sent has made its deliveries already (or queued its access check in that chain). A `cancel` of a tag nobody
 *   consumes under changes nothing and is answered `unknown_consumer` in that order.
 * - producer sockets: every `seq` is answered once, in `seq` order (docs/websocket-protocol.md),
 *   so the answer to a new `seq` comes after the answers to all earlier ones.
 * - inbox sockets: a ping spelled other than the exact auto-response text reaches the inbox
 *   object, which answers `pong` after everything it sent before.
 * - a socket the broker closes: the close event; nothing can follow it.
 *
 * A barrier on one socket says nothing about another socket's frames: put it on the socket whose
 * silence the test asserts. The queue's dispatch resumed after a byte budget (setTimeout 0,
 * QueueUpkeep.resumeLater) is not in the turn chain; no test here relies on silence after one.
 */
import { GUEST } from "./api";
import { openSocket, type TestSocket } from "./socket";

let barriers = 0;

/**
 * How long a barrier's answer, or a condition awaited with `vi.waitFor(check, EVENTUALLY)`, may
 * take before the test fails: a hang guard, not a wait (both end as soon as the answer is there),
 * long enough for a loaded machine.
 */
export const HANG_GUARD_MS = 10_000;
export const EVENTUALLY = { timeout: HANG_GUARD_MS, interval: 10 } as const;

/**
 * Proves the queue has handled every frame this consumer socket sent before, and every dispatch
 * the requests answered before this call made for it: all of that has now arrived in `frames`.
 */
export async function consumerBarrier(
  socket: TestSocket,
  timeoutMs = HANG_GUARD_MS,
): Promise<void> {
  const tag = `barrier-${++barriers}`;
  await socket.roundTrip(
    { type: "cancel", tag },
    (f) =>
      f.type === "error" &&
      f.code === "unknown_consumer" &&
      typeof f.reason === "string" &&
      f.reason.includes(`'${tag}'`),
    timeoutMs,
  );
}

/**
 * Proves the queue object has handled its earlier events (another connection's close, frames,
 * access checks), through a connection of its own that it then closes: for a queue whose own
 * sockets are gone or must not be touched.
 */
export async function queueBarrier(queue: string, vhost = "/", auth = GUEST): Promise<void> {
  const socket = await openSocket(
    `/api/queues/${encodeURIComponent(vhost)}/${encodeURIComponent(queue)}/consume`,
    auth,
  );
  try {
    await consumerBarrier(socket);
  } finally {
    socket.close();
  }
}

/**
 * Closes a consumer socket and waits until its queue has handled the close (its deliveries
 * returned, its consumers gone): the close event says the runtime answered the close, and a
 * barrier on another connection to the same queue (`witness`, or one opened to `witness` by
 * name) says the queue object took the close in turn before that connection's frame.
 */
export async function closeConsumer(
  socket: TestSocket,
  witness: TestSocket | string,
  vhost = "/",
): Promise<void> {
  socket.close();
  await socket.whenClosed();
  if (typeof witness === "string") await queueBarrier(witness, vhost);
  else await consumerBarrier(witness);
}

/**
 * Proves every earlier `seq` of this producer socket was answered: publishes `seq` (above every
 * earlier one) to a routing key nothing is bound to, and waits for its confirm. Call it once the
 * earlier seqs have their answers (a confirm with `multiple` may cover seqs still outstanding, and
 * the barrier's answer is kept out of `frames`).
 */
export async function producerBarrier(
  socket: TestSocket,
  seq: number,
  timeoutMs = HANG_GUARD_MS,
): Promise<void> {
  await socket.roundTrip(
    {
      type: "publish",
      seq,
      exchange: "",
      routing_key: `barrier.unbound.${++barriers}`,
      payload: "",
    },
    (f) => (f.type === "confirm" || f.type === "nack") && f.seq === seq,
    timeoutMs,
  );
}

/** A ping the inbox object answers itself (the exact text `{"type":"ping"}` is auto-answered). */
export const INBOX_BARRIER_PING = '{ "type": "ping" }';

/** WebSocket test client: opens a socket through the Worker and awaits frames by predicate. */
import { exports } from "cloudflare:workers";
import { BASE, GUEST, seg } from "./api";

export type Frame = Record<string, unknown> & { type: string };

export class TestSocket {
  readonly frames: Frame[] = [];
  private waiters: { match: (f: Frame) => boolean; resolve: (f: Frame) => void }[] = [];
  /** Answers to round trips (test/support/barriers.ts): taken here, never recorded in frames. */
  private roundTrips: { match: (f: Frame) => boolean; resolve: (f: Frame) => void }[] = [];
  private seen = 0;
  closed = false;
  /** Settles with the close event: after it, nothing more can arrive on this socket. */
  private readonly closing: Promise<CloseEvent>;

  constructor(readonly ws: WebSocket) {
    let onClose: (event: CloseEvent) => void = () => {};
    this.closing = new Promise((resolve) => {
      onClose = resolve;
    });
    ws.addEventListener("message", (event) => {
      const frame = JSON.parse(String(event.data)) as Frame;
      const roundTrip = this.roundTrips.find((r) => r.match(frame));
      if (roundTrip) {
        this.roundTrips = this.roundTrips.filter((r) => r !== roundTrip);
        roundTrip.resolve(frame);
        return;
      }
      this.frames.push(frame);
      const waiter = this.waiters.find((w) => w.match(frame));
      if (waiter) {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        waiter.resolve(frame);
      }
    });
    ws.addEventListener("close", (event) => {
      this.closed = true;
      onClose(event);
    });
  }

  /**
   * Sends `frame` and waits for the one answer `isAnswer` recognises. The answer is kept out of
   * `frames`, so a barrier leaves no trace in what the test asserts on.
   */
  roundTrip(
    frame: Record<string, unknown> | string,
    isAnswer: (f: Frame) => boolean,
    timeoutMs = 10_000,
  ): Promise<Frame> {
    return new Promise<Frame>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`no answer to ${JSON.stringify(frame)} within ${timeoutMs} ms`)),
        timeoutMs,
      );
      this.roundTrips.push({
        match: isAnswer,
        resolve: (f) => {
          clearTimeout(timer);
          resolve(f);
        },
      });
      this.send(frame);
    });
  }

  /** The close event (the peer's close frame arrived), or a timeout error. */
  whenClosed(timeoutMs = 10_000): Promise<CloseEvent> {
    return new Promise<CloseEvent>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`the socket did not close within ${timeoutMs} ms`)),
        timeoutMs,
      );
      void this.closing.then((event) => {
        clearTimeout(timer);
        resolve(event);
      });
    });
  }

  send(frame: Record<string, unknown> | string): void {
    this.ws.send(typeof frame === "string" ? frame : JSON.stringify(frame));
  }

  /** The next frame (after those already taken with next) that matches, or a timeout error. */
  async next(match: (f: Frame) => boolean = () => true, timeoutMs = 3000): Promise<Frame> {
    for (; this.seen < this.frames.length; this.seen++) {
      const frame = this.frames[this.seen] as Frame;
      if (match(frame)) {
        this.seen++;
        return frame;
      }
    }
    const frame = await new Promise<Frame>((resolve, reject) => {
      const timer = setTimeout(
        () =>
          reject(
            new Error(
              `no matching frame within ${timeoutMs} ms; got ${JSON.stringify(this.frames)}`,
            ),
          ),
        timeoutMs,
      );
      this.waiters.push({
        match,
        resolve: (f) => {
          clearTimeout(timer);
          resolve(f);
        },
      });
    });
    this.seen = this.frames.length;
    return frame;
  }

  /** Frames of a type received so far. */
  all(type: string): Frame[] {
    return this.frames.filter((f) => f.type === type);
  }

  close(): void {
    this.ws.close(1000, "test done");
  }
}

export async function openSocket(path: string, auth: string | null = GUEST): Promise<TestSocket> {
  const headers: Record<string, string> = { Upgrade: "websocket" };
  if (auth !== null) headers.Authorization = auth;
  const response = await exports.default.fetch(new Request(`${BASE}${path}`, { headers }));
  if (response.status !== 101 || !response.webSocket) {
    throw new Error(`upgrade answered ${response.status}: ${await response.text()}`);
  }
  response.webSocket.accept();
  return new TestSocket(response.webSocket);
}

export function openConsumer(queue: string, vhost = "/"): Promise<TestSocket> {
  return openSocket(`/api/queues/${seg(vhost)}/${seg(queue)}/consume`);
}

export const isType = (type: string) => (f: Frame) => f.type === type;

/** Waits for `n` deliver frames, answering their payloads in arrival order. */
export async function deliveries(
  socket: TestSocket,
  n: number,
  timeoutMs = 3000,
): Promise<Frame[]> {
  const out: Frame[] = [];
  for (let i = 0; i < n; i++) out.push(await socket.next(isType("deliver"), timeoutMs));
  return out;
}

/**
 * Only for waiting out a real deadline (a TTL, an ack deadline, a session timeout), saying which.
 * "Nothing (more) arrived" is checked with a round-trip barrier (test/support/barriers.ts), and
 * "it happens eventually" with vi.waitFor, never with a sleep.
 */
export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

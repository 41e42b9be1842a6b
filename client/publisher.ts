/**
 * Publishing with confirms over one WebSocket: `publish()` resolves when the broker has stored
 * every routed copy (`{ routed }`), and rejects with PublishRefusedError when the broker nacks.
 * Frames are pipelined. After a reconnect, every unconfirmed message is sent again, in order, so
 * delivery is at-least-once (a message stored just before the connection dropped may be stored
 * twice, as with any broker's publisher confirms).
 */
import { PublishRefusedError } from "./errors.ts";
import { openReconnecting, type ReconnectOptions, type SocketConstructor } from "./sockets.ts";

export interface MessageProperties {
  readonly content_type?: string;
  readonly content_encoding?: string;
  readonly headers?: Record<string, unknown>;
  readonly delivery_mode?: 1 | 2;
  readonly priority?: number;
  readonly correlation_id?: string;
  readonly reply_to?: string;
  readonly expiration?: string;
  readonly message_id?: string;
  readonly timestamp?: number;
  readonly type?: string;
  readonly user_id?: string;
  readonly app_id?: string;
}

interface Outstanding {
  readonly frame: string;
  readonly resolve: (result: { routed: boolean }) => void;
  readonly reject: (error: Error) => void;
}

export function encodeBody(payload: string | Uint8Array): { payload: string; payload_encoding: "string" | "base64" } {
  if (typeof payload === "string") return { payload, payload_encoding: "string" };
  let binary = "";
  for (let i = 0; i < payload.length; i += 0x8000) {
    binary += String.fromCharCode(...payload.subarray(i, i + 0x8000));
  }
  return { payload: btoa(binary), payload_encoding: "base64" };
}

export class Publisher {
  private readonly socket;
  private readonly outstanding = new Map<number, Outstanding>();
  private seq = 0;
  private closed = false;
  /** Frames the broker could not read (not tied to a message). */
  onError: (code: string, reason: string) => void = () => {};

  constructor(url: string, Socket: SocketConstructor, reconnect: ReconnectOptions = {}) {
    this.socket = openReconnecting(url, Socket, reconnect);
    this.socket.addEventListener("open", () => {
      // A new connection knows nothing of the old one: send what was not confirmed, in order.
      for (const [, entry] of [...this.outstanding].sort(([a], [b]) => a - b)) {
        this.socket.send(entry.frame);
      }
    });
    this.socket.addEventListener("message", (event) => this.receive(String(event.data)));
  }

  /** Messages sent and not yet confirmed. */
  get unconfirmed(): number {
    return this.outstanding.size;
  }

  publish(
    exchange: string,
    routingKey: string,
    payload: string | Uint8Array,
    properties: MessageProperties = {},
  ): Promise<{ routed: boolean }> {
    if (this.closed) return Promise.reject(new Error("the publisher is closed"));
    const seq = ++this.seq;
    const frame = JSON.stringify({
      type: "publish",
      seq,
      exchange,
      routing_key: routingKey,
      properties,
      ...encodeBody(payload),
    });
    return new Promise((resolve, reject) => {
      this.outstanding.set(seq, { frame, resolve, reject });
      if (this.socket.readyState === this.socket.OPEN) this.socket.send(frame);
    });
  }

  close(): void {
    this.closed = true;
    this.socket.close(1000, "publisher closed");
    for (const [, entry] of this.outstanding) entry.reject(new Error("the publisher closed before a confirm"));
    this.outstanding.clear();
  }

  private receive(text: string): void {
    const frame = JSON.parse(text) as {
      type: string;
      seq?: number;
      multiple?: boolean;
      routed?: boolean;
      code?: string;
      reason?: string;
    };
    if (frame.type === "confirm" && frame.seq !== undefined) {
      const seqs = frame.multiple
        ? [...this.outstanding.keys()].filter((s) => s <= (frame.seq as number))
        : [frame.seq];
      for (const seq of seqs) {
        this.outstanding.get(seq)?.resolve({ routed: frame.routed === true });
        this.outstanding.delete(seq);
      }
    } else if (frame.type === "nack" && frame.seq !== undefined) {
      this.outstanding.get(frame.seq)?.reject(new PublishRefusedError(frame.code ?? "", frame.reason ?? ""));
      this.outstanding.delete(frame.seq);
    } else if (frame.type === "error") {
      this.onError(frame.code ?? "", frame.reason ?? "");
    }
  }
}

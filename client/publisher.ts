/**
 * Publishing with confirms over one WebSocket: `publish()` resolves when the broker has stored
 * every routed copy (`{ routed }`), and rejects with PublishRefusedError when the broker nacks.
 * Frames are pipelined, and publishes made in the same tick (or within `lingerMs`) share one
 * frame (a list of messages, each with its own seq and its own confirm). After a reconnect, every unconfirmed message is sent again, in order, so
 * delivery is at-least-once (a message stored just before the connection dropped may be stored
 * twice, as with any broker's publisher confirms).
 */
// The wire's types come from the broker's protocol module; type-only, so Node strips them and
// loads nothing of src/ at run time.
import type { FrameErrorCode } from "../src/protocol/error-codes.ts";
import type { PublishEntryInput, ServerFrame } from "../src/protocol/frames.ts";
import type { BasicProperties } from "../src/protocol/properties.ts";
import type { PublishBody } from "../src/protocol/publish-body.ts";
import { type BatchOptions, Batcher } from "./batcher.ts";
import { PublishRefusedError } from "./errors.ts";
import { openReconnecting, type ReconnectOptions, type SocketConstructor } from "./sockets.ts";

/** AMQP basic properties as the broker's API spells them (src/protocol/properties.ts). */
export type MessageProperties = BasicProperties;

interface Outstanding {
  /** This message's entry in a publish frame's `messages` list, as JSON. */
  readonly entry: string;
  readonly resolve: (result: { routed: boolean }) => void;
  readonly reject: (error: Error) => void;
}

/** The broker takes up to 1,000 messages per publish frame (LIMITS.maxBatchMessages). */
const MAX_MESSAGES_PER_FRAME = 1000;

export type PublisherOptions = BatchOptions;

export function encodeBody(payload: string | Uint8Array): Pick<PublishBody, "payload" | "payload_encoding"> {
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
  private readonly batcher: Batcher<string>;
  private seq = 0;
  private closed = false;
  /** Frames the broker could not read (not tied to a message). */
  onError: (code: FrameErrorCode, reason: string) => void = () => {};

  constructor(
    url: string,
    Socket: SocketConstructor,
    reconnect: ReconnectOptions = {},
    options: PublisherOptions = {},
  ) {
    this.socket = openReconnecting(url, Socket, reconnect);
    this.batcher = new Batcher<string>(
      (entries) => {
        if (this.socket.readyState === this.socket.OPEN) {
          this.socket.send(`{"type":"publish","messages":[${entries.join(",")}]}`);
        }
        // Not open: the entries stay outstanding and are sent when it opens.
      },
      (entry) => entry.length,
      MAX_MESSAGES_PER_FRAME,
      options,
    );
    this.socket.addEventListener("open", () => {
      // A new connection knows nothing of the old one: send what was not confirmed, in order
      // (the map keeps insertion order, which is seq order).
      this.batcher.clear();
      for (const entry of this.outstanding.values()) this.batcher.add(entry.entry);
      this.batcher.flush();
    });
    this.socket.addEventListener("message", (event) => this.receive(String(event.data)));
  }

  /** Messages sent and not yet confirmed. */
  get unconfirmed(): number {
    return this.outstanding.size;
  }

  /**
   * Publishes one message; resolves with its own confirm. Messages published in the same tick
   * (or within `lingerMs`) leave in one frame.
   */
  publish(
    exchange: string,
    routingKey: string,
    payload: string | Uint8Array,
    properties: MessageProperties = {},
  ): Promise<{ routed: boolean }> {
    if (this.closed) return Promise.reject(new Error("the publisher is closed"));
    const seq = ++this.seq;
    const entry = JSON.stringify({
      seq,
      exchange,
      routing_key: routingKey,
      properties,
      ...encodeBody(payload),
    } satisfies PublishEntryInput);
    return new Promise((resolve, reject) => {
      this.outstanding.set(seq, { entry, resolve, reject });
      this.batcher.add(entry);
    });
  }

  /** Sends what is waiting for the end of the tick (or the linger) now. */
  flush(): void {
    this.batcher.flush();
  }

  close(): void {
    this.closed = true;
    this.batcher.clear();
    this.socket.close(1000, "publisher closed");
    for (const [, entry] of this.outstanding) entry.reject(new Error("the publisher closed before a confirm"));
    this.outstanding.clear();
  }

  private receive(text: string): void {
    const frame = JSON.parse(text) as ServerFrame;
    if (frame.type === "confirm") {
      const last = frame.seq;
      const seqs: number[] = [];
      if (frame.multiple) {
        for (const seq of this.outstanding.keys()) {
          if (seq > last) break;
          seqs.push(seq);
        }
      } else {
        seqs.push(last);
      }
      for (const seq of seqs) {
        this.outstanding.get(seq)?.resolve({ routed: frame.routed === true });
        this.outstanding.delete(seq);
      }
    } else if (frame.type === "nack") {
      this.outstanding.get(frame.seq)?.reject(new PublishRefusedError(frame.code, frame.reason));
      this.outstanding.delete(frame.seq);
    } else if (frame.type === "error") {
      this.onError(frame.code, frame.reason);
    }
  }
}

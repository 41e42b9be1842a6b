/**
 * How many bytes of messages one answer may carry: a get or pull answer crosses Durable Object
 * RPC (32 MiB at most) and becomes JSON (base64 grows it by a third); a dispatch pass holds every
 * frame it sends in memory. Each budget admits at least one message, so a message of the
 * largest allowed size is always deliverable, and stops before the one that would overflow it.
 * Messages a budget leaves out stay ready: nothing is leased or assigned that is not answered.
 */
import type { MessageRow } from "../storage/message-store";

/** JSON field names and metadata around each message in an answer. */
const ENVELOPE_BYTES = 256;

/** What one message adds to an answer: its body, its properties as JSON, its envelope. */
export function answerBytes(row: MessageRow): number {
  return row.body.byteLength + row.properties.length + row.routing_key.length + ENVELOPE_BYTES;
}

export class ByteBudget {
  private used = 0;
  private admitted = 0;
  private refused = false;

  constructor(private readonly limit: number) {}

  /** Takes `bytes` from the budget when they fit (the first message always fits). */
  admit(bytes: number): boolean {
    if (this.refused || (this.admitted > 0 && this.used + bytes > this.limit)) {
      this.refused = true;
      return false;
    }
    this.used += bytes;
    this.admitted++;
    return true;
  }

  /** True once a message was left out for lack of room. */
  get exhausted(): boolean {
    return this.refused;
  }
}

/**
 * Payload encodings of the management API: `string` (UTF-8) and `base64` on publish; on get,
 * `auto` answers UTF-8 text when the bytes are valid UTF-8 and base64 otherwise.
 */
import { type Failure, fail } from "../errors";

export type PayloadEncoding = "string" | "base64";

const encoder = new TextEncoder();
const strictDecoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false });

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

export function decodePayload(payload: string, encoding: PayloadEncoding): Uint8Array | Failure {
  if (encoding === "string") {
    return encoder.encode(payload);
  }
  const compact = payload.replace(/\s+/g, "");
  if (!BASE64.test(compact)) {
    return fail("bad_request", "payload is not valid base64");
  }
  return base64ToBytes(compact);
}

export function encodePayload(
  body: Uint8Array,
  encoding: "auto" | "base64",
): { payload: string; payload_encoding: PayloadEncoding } {
  if (encoding === "auto") {
    try {
      return { payload: strictDecoder.decode(body), payload_encoding: "string" };
    } catch {
      // Not UTF-8: fall through to base64, as RabbitMQ's `auto` does.
    }
  }
  return { payload: bytesToBase64(body), payload_encoding: "base64" };
}

export function base64ToBytes(text: string): Uint8Array {
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) {
    bytes[i] = binary.charCodeAt(i);
  }
  return bytes;
}

export function bytesToBase64(bytes: Uint8Array): string {
  let binary = "";
  const chunk = 0x8000;
  for (let i = 0; i < bytes.length; i += chunk) {
    binary += String.fromCharCode(...bytes.subarray(i, i + chunk));
  }
  return btoa(binary);
}

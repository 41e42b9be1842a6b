/**
 * WebSockets that reconnect with backoff, from partysocket (a maintained reconnecting WebSocket),
 * opened with the client's credentials. Node's WebSocket (undici) takes headers; other runtimes
 * can pass their own constructor.
 */
import ReconnectingWebSocket from "partysocket/ws";

export interface ReconnectOptions {
  readonly minDelayMs?: number;
  readonly maxDelayMs?: number;
  /** Give up after this many attempts in a row (default: never). */
  readonly maxRetries?: number;
}

/** A WebSocket constructor as partysocket calls it: `new WebSocket(url, protocols)`. */
export type SocketConstructor = new (url: string, protocols?: string | string[]) => WebSocket;

/** Node's global WebSocket, with an Authorization header on the upgrade request. */
export function authorizedWebSocket(authorization: string): SocketConstructor {
  const Base = globalThis.WebSocket as unknown as new (
    url: string,
    init: { protocols?: string | string[]; headers: Record<string, string> },
  ) => WebSocket;
  return class AuthorizedWebSocket extends Base {
    constructor(url: string, protocols?: string | string[]) {
      super(url, { protocols, headers: { Authorization: authorization } });
    }
  } as unknown as SocketConstructor;
}

export function openReconnecting(
  url: string,
  Socket: SocketConstructor,
  options: ReconnectOptions = {},
): ReconnectingWebSocket {
  return new ReconnectingWebSocket(url, undefined, {
    WebSocket: Socket,
    minReconnectionDelay: options.minDelayMs ?? 250,
    maxReconnectionDelay: options.maxDelayMs ?? 10_000,
    reconnectionDelayGrowFactor: 2,
    maxRetries: options.maxRetries ?? Number.POSITIVE_INFINITY,
    // Frames are never queued while disconnected: publishers resend what was not confirmed,
    // consumers subscribe again, acks of a lost connection are void anyway.
    maxEnqueuedMessages: 0,
  });
}

export type { ReconnectingWebSocket };

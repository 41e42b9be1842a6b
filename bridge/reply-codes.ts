/**
 * AMQP 0-9-1 reply codes as RabbitMQ sends them, and the one place that turns a broker answer
 * (`{"error","reason"}` with an HTTP status, or a publish nack's code) into one. Channel errors
 * close the channel; connection errors close the connection (AMQP 0-9-1 spec, section 1.2,
 * "soft" and "hard" errors).
 */
import { BrokerApiError, PublishRefusedError } from "../client/index.ts";

export const REPLY = {
  success: 200,
  contentTooLarge: 311,
  noRoute: 312,
  noConsumers: 313,
  connectionForced: 320,
  invalidPath: 402,
  accessRefused: 403,
  notFound: 404,
  resourceLocked: 405,
  preconditionFailed: 406,
  frameError: 501,
  syntaxError: 502,
  commandInvalid: 503,
  channelError: 504,
  unexpectedFrame: 505,
  resourceError: 506,
  notAllowed: 530,
  notImplemented: 540,
  internalError: 541,
} as const;

export type ReplyCode = (typeof REPLY)[keyof typeof REPLY];

const TEXT: Record<number, string> = {
  200: "OK",
  311: "CONTENT_TOO_LARGE",
  312: "NO_ROUTE",
  313: "NO_CONSUMERS",
  320: "CONNECTION_FORCED",
  402: "INVALID_PATH",
  403: "ACCESS_REFUSED",
  404: "NOT_FOUND",
  405: "RESOURCE_LOCKED",
  406: "PRECONDITION_FAILED",
  501: "FRAME_ERROR",
  502: "SYNTAX_ERROR",
  503: "COMMAND_INVALID",
  504: "CHANNEL_ERROR",
  505: "UNEXPECTED_FRAME",
  506: "RESOURCE_ERROR",
  530: "NOT_ALLOWED",
  540: "NOT_IMPLEMENTED",
  541: "INTERNAL_ERROR",
};

/** Codes that close the connection rather than the channel (the spec's hard errors). */
const HARD = new Set<number>([320, 402, 501, 502, 503, 504, 505, 506, 530, 540, 541]);

/**
 * An error the bridge raises while handling a method: the channel (or, for hard errors, the
 * connection) is closed with `replyCode` and RabbitMQ's reply text, `CODE_NAME - detail`.
 */
export class AmqpError extends Error {
  readonly replyCode: number;
  readonly replyText: string;

  constructor(replyCode: number, detail: string) {
    const text = `${TEXT[replyCode] ?? "ERROR"} - ${detail}`;
    super(text);
    this.name = "AmqpError";
    this.replyCode = replyCode;
    // shortstr: at most 255 bytes on the wire.
    this.replyText = truncateUtf8(text, 255);
  }

  get hard(): boolean {
    return HARD.has(this.replyCode);
  }
}

export function truncateUtf8(text: string, bytes: number): string {
  const encoded = Buffer.from(text, "utf8");
  if (encoded.length <= bytes) return text;
  return encoded
    .subarray(0, bytes)
    .toString("utf8")
    .replace(/\uFFFD$/, "");
}

export function describeResource(kind: "queue" | "exchange", name: string, vhost: string): string {
  return `${kind} '${name}' in vhost '${vhost}'`;
}

/**
 * A broker failure as an AMQP error. `notFound` is the text RabbitMQ uses for the resource the
 * method names (e.g. "no queue 'q' in vhost '/'"); everything else keeps the broker's reason.
 */
export function fromBroker(error: unknown, notFound?: string): AmqpError {
  if (error instanceof AmqpError) return error;
  if (error instanceof BrokerApiError) {
    switch (error.status) {
      case 404:
        return new AmqpError(REPLY.notFound, notFound ?? error.reason);
      case 401:
      case 403:
      case 429:
        return new AmqpError(REPLY.accessRefused, error.reason);
      case 400:
      case 409:
      case 413:
        return relayed(error.reason) ?? new AmqpError(REPLY.preconditionFailed, error.reason);
      case 405:
        return new AmqpError(REPLY.notImplemented, error.reason);
      default:
        return new AmqpError(
          REPLY.internalError,
          `the broker answered ${error.status}: ${error.reason}`,
        );
    }
  }
  if (error instanceof PublishRefusedError) {
    switch (error.code) {
      case "not_found":
        return new AmqpError(REPLY.notFound, notFound ?? error.reason);
      case "access_refused":
      case "not_authorized":
        return new AmqpError(REPLY.accessRefused, error.reason);
      case "payload_too_large":
      case "bad_request":
        return new AmqpError(REPLY.preconditionFailed, error.reason);
      default:
        return new AmqpError(REPLY.internalError, `${error.code}: ${error.reason}`);
    }
  }
  const message = error instanceof Error ? error.message : String(error);
  return new AmqpError(REPLY.internalError, `the broker could not be reached: ${message}`);
}

/**
 * A reason that already carries an AMQP channel error, as the management API relays one
 * (`406 PRECONDITION_FAILED - Invalid argument, ...`): that code and its detail, not wrapped twice.
 */
function relayed(reason: string): AmqpError | null {
  const match = /^(\d{3}) ([A-Z_]+) - ([\s\S]*)$/.exec(reason);
  if (!match) return null;
  const code = Number(match[1]);
  if (TEXT[code] !== match[2] || HARD.has(code)) return null;
  return new AmqpError(code, match[3] as string);
}

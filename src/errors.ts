/**
 * Every expected failure has a code; this file is the one place that maps codes to HTTP statuses
 * and to the `{"error","reason"}` body RabbitMQ's management API answers with
 * (../shared/reference/rabbitmq-http-api.md). Durable Objects return failures as values
 * (`Failure`), because an error's own fields do not survive Durable Object RPC. The codes
 * themselves, with the socket-only ones, are listed in src/protocol/error-codes.ts.
 */
import { ERROR_STATUS, type ErrorCode } from "./protocol/error-codes";

export type { ErrorCode };

/** RabbitMQ spells some codes differently on the wire; everything else is the code itself. */
const WIRE_ERROR: Partial<Record<ErrorCode, string>> = {
  not_found: "Object Not Found",
};

export interface Failure {
  readonly ok: false;
  readonly code: ErrorCode;
  readonly reason: string;
}

export type Result<T> = ({ readonly ok: true } & T) | Failure;

export function fail(code: ErrorCode, reason: string): Failure {
  return { ok: false, code, reason };
}

export class BrokerError extends Error {
  constructor(
    readonly code: ErrorCode,
    readonly reason: string,
  ) {
    super(`${code}: ${reason}`);
    this.name = "BrokerError";
  }

  static from(failure: Failure): BrokerError {
    return new BrokerError(failure.code, failure.reason);
  }
}

export function statusOf(code: ErrorCode): number {
  return ERROR_STATUS[code];
}

export function errorBody(code: ErrorCode, reason: string): { error: string; reason: string } {
  return { error: WIRE_ERROR[code] ?? code, reason };
}

/**
 * Which body an error gets: the management API's `{"error","reason"}`, or the notification app's
 * `{"message"}`, the shape of the article it reproduces (`{"message": "User not found"}`).
 */
export type ErrorStyle = "management" | "article";

export function styledErrorBody(
  style: ErrorStyle,
  code: ErrorCode,
  reason: string,
): { error: string; reason: string } | { message: string } {
  return style === "article" ? { message: reason } : errorBody(code, reason);
}

/**
 * A failure as an HTTP answer, for the one place that answers HTTP outside the Hono app: an inbox
 * object refusing a WebSocket upgrade that the Worker handed it.
 */
export function failureResponse(style: ErrorStyle, failure: Failure): Response {
  return Response.json(styledErrorBody(style, failure.code, failure.reason), {
    status: statusOf(failure.code),
  });
}

/** Unwraps a typed outcome from a Durable Object, turning a failure into the HTTP error. */
export function unwrap<T extends { ok: boolean }>(result: T): Extract<T, { ok: true }> {
  if (!result.ok) {
    throw BrokerError.from(result as unknown as Failure);
  }
  return result as Extract<T, { ok: true }>;
}

export const notFound = (): BrokerError => new BrokerError("not_found", "Not Found");

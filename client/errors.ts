import type { FrameErrorCode } from "../src/protocol/error-codes.ts";

/** Errors the client raises: the broker's own `{error, reason}`, with the HTTP status. */
export class BrokerApiError extends Error {
  readonly status: number;
  readonly error: string;
  readonly reason: string;

  constructor(status: number, error: string, reason: string) {
    super(`${status} ${error}: ${reason}`);
    this.name = "BrokerApiError";
    this.status = status;
    this.error = error;
    this.reason = reason;
  }
}

/** A publish the broker refused (a nack frame): nothing was stored. */
export class PublishRefusedError extends Error {
  readonly code: FrameErrorCode;
  readonly reason: string;

  constructor(code: FrameErrorCode, reason: string) {
    super(`publish refused: ${code}: ${reason}`);
    this.name = "PublishRefusedError";
    this.code = code;
    this.reason = reason;
  }
}

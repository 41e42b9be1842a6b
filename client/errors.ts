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
  readonly code: string;
  readonly reason: string;

  constructor(code: string, reason: string) {
    super(`publish refused: ${code}: ${reason}`);
    this.name = "PublishRefusedError";
    this.code = code;
    this.reason = reason;
  }
}

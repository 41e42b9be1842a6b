/**
 * Every error code the broker puts on the wire, in one place: the codes an HTTP answer carries
 * (each with its status; src/errors.ts maps failures through this table) and the codes only
 * socket frames carry (docs/websocket-protocol.md, docs/streams.md). A socket frame may carry any
 * of them: a failure from an object travels to the socket with its own code.
 *
 * No imports: the typed client (client/) imports these types, and Node runs it by stripping types.
 */

export const ERROR_STATUS = {
  bad_request: 400,
  not_authorized: 401,
  access_refused: 403,
  not_found: 404,
  method_not_allowed: 405,
  upgrade_required: 426,
  payload_too_large: 413,
  unsupported_media_type: 415,
  too_many_requests: 429,
  internal_error: 500,
  service_unavailable: 503,
} as const;

/** A code an HTTP answer (and a Failure across Durable Object RPC) can carry. */
export type ErrorCode = keyof typeof ERROR_STATUS;

/** The codes only socket frames carry, each with what causes it. */
export const FRAME_ERROR = {
  bad_frame:
    "not JSON, binary, fields of the wrong shape, a string that is not well-formed Unicode, or a frame out of place",
  unknown_frame: "an unknown `type`",
  frame_too_large: "a frame over its connection's size limit",
  bad_seq: "a publish `seq` not above the previous one on this connection",
  unknown_delivery_tag: "an ack, nack, reject or extend for a tag this connection does not hold",
  unknown_consumer: "a cancel of a tag that is not consuming",
  unavailable: "the user's access could not be checked: send the frame again",
  connection_forced: "an operator closed the connection",
} as const;

export type FrameOnlyErrorCode = keyof typeof FRAME_ERROR;

/** What an `error` (or publish `nack`) frame's `code` can be. */
export type FrameErrorCode = ErrorCode | FrameOnlyErrorCode;

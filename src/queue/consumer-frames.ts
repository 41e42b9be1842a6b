/**
 * What a consumer connection's frames do to its queue (docs/websocket-protocol.md): one handler
 * per frame type, switched on `type` with an exhaustiveness check. Answers the frame to send
 * back, or null when the frame needs no answer.
 */
import {
  type ConsumerFrame,
  errorFrame,
  FRAME,
  parseConsumerFrame,
  type ServerFrame,
} from "../protocol/frames";
import type { QueueEngine } from "./queue-engine";

export interface FrameContext {
  readonly engine: QueueEngine;
  readonly queue: string;
  /** Sends a frame to this connection (before any deliveries the frame causes). */
  readonly send: (frame: ServerFrame) => void;
  /** A consumer was cancelled (an auto-delete queue may have lost its last one). */
  readonly cancelled: () => void;
}

/**
 * A message from a consumer socket: JSON text, parsed and handled; the answer for anything that
 * is not a frame, and for a queue that no longer exists (`context` null).
 */
export function answerConsumerMessage(
  context: FrameContext | null,
  connection: string,
  message: string | ArrayBuffer,
  now: number,
): ServerFrame | null {
  if (typeof message !== "string") {
    return errorFrame("bad_frame", "frames are JSON text, not binary");
  }
  const parsed = parseConsumerFrame(message);
  if (!parsed.ok) return errorFrame(parsed.code, parsed.reason);
  if (!context) return errorFrame("not_found", "the queue no longer exists");
  return handleConsumerFrame(context, connection, parsed.frame, now);
}

export function handleConsumerFrame(
  context: FrameContext,
  connection: string,
  frame: ConsumerFrame,
  now: number,
): ServerFrame | null {
  const { engine, queue } = context;
  switch (frame.type) {
    case FRAME.consume: {
      if (frame.queue !== undefined && frame.queue !== queue) {
        return errorFrame("bad_request", `this connection consumes from '${queue}'`, frame.type);
      }
      const refused = engine.consume(
        connection,
        {
          tag: frame.tag,
          prefetch: frame.prefetch,
          autoAck: frame.ack === "auto",
          exclusive: frame.exclusive,
          ackTimeoutMs: frame.ack_timeout_ms,
          batch: frame.batch,
        },
        now,
        queue,
      );
      if (refused) return errorFrame(refused.code, refused.reason, frame.type);
      context.send({ type: FRAME.consumeOk, tag: frame.tag });
      engine.dispatch(now);
      return null;
    }
    case FRAME.ack:
    case FRAME.nack:
    case FRAME.reject: {
      const multiple = frame.type === FRAME.reject ? false : frame.multiple;
      const outcome = frame.type === FRAME.ack ? "ack" : frame.requeue ? "requeue" : "drop";
      const unknown = engine.settleDeliveries(
        connection,
        { deliveryTag: frame.delivery_tag, multiple, deliveryTags: frame.delivery_tags },
        outcome,
        now,
      );
      return unknown.length === 0 ? null : unknownTags(unknown, frame.type);
    }
    case FRAME.extend: {
      const deadline = now + frame.ack_timeout_ms;
      const known = engine.extend(connection, frame.delivery_tag, frame.multiple, deadline);
      return known ? null : unknownTag(frame.delivery_tag, frame.type);
    }
    case FRAME.cancel:
      if (engine.cancel(connection, frame.tag)) {
        context.cancelled();
        return { type: FRAME.cancelOk, tag: frame.tag };
      }
      return errorFrame(
        "unknown_consumer",
        `no consumer '${frame.tag}' on this connection`,
        frame.type,
      );
    default: {
      const unreachable: never = frame;
      return unreachable;
    }
  }
}

/** Names every unknown tag of a settling frame; the frame's other tags were settled. */
function unknownTags(deliveryTags: number[], frame: string): ServerFrame {
  const shown = deliveryTags.slice(0, 20).join(", ");
  const more = deliveryTags.length > 20 ? ` and ${deliveryTags.length - 20} more` : "";
  return {
    ...errorFrame(
      "unknown_delivery_tag",
      `PRECONDITION_FAILED - unknown delivery tag${deliveryTags.length > 1 ? "s" : ""} ${shown}${more}`,
      frame,
    ),
    delivery_tags: deliveryTags,
  };
}

function unknownTag(deliveryTag: number, frame: string): ServerFrame {
  // RabbitMQ closes the channel with PRECONDITION_FAILED here; the socket stays usable instead.
  return errorFrame(
    "unknown_delivery_tag",
    `PRECONDITION_FAILED - unknown delivery tag ${deliveryTag}`,
    frame,
  );
}

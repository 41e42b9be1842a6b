/**
 * AMQP 0-9-1 framing over amqplib's generated codec (see amqplib-internals.d.ts): a reader that
 * turns a byte stream into frames, and the encoders the bridge writes with. Method ids are
 * (class id << 16) | method id, as amqplib numbers them.
 */
import defs from "amqplib/lib/defs.js";
import frame from "amqplib/lib/frame.js";

export const METHOD = {
  connectionStart: 0x000a000a,
  connectionStartOk: 0x000a000b,
  connectionSecure: 0x000a0014,
  connectionSecureOk: 0x000a0015,
  connectionTune: 0x000a001e,
  connectionTuneOk: 0x000a001f,
  connectionOpen: 0x000a0028,
  connectionOpenOk: 0x000a0029,
  connectionClose: 0x000a0032,
  connectionCloseOk: 0x000a0033,
  connectionBlocked: 0x000a003c,
  connectionUnblocked: 0x000a003d,
  channelOpen: 0x0014000a,
  channelOpenOk: 0x0014000b,
  channelFlow: 0x00140014,
  channelFlowOk: 0x00140015,
  channelClose: 0x00140028,
  channelCloseOk: 0x00140029,
  accessRequest: 0x001e000a,
  accessRequestOk: 0x001e000b,
  exchangeDeclare: 0x0028000a,
  exchangeDeclareOk: 0x0028000b,
  exchangeDelete: 0x00280014,
  exchangeDeleteOk: 0x00280015,
  exchangeBind: 0x0028001e,
  exchangeBindOk: 0x0028001f,
  exchangeUnbind: 0x00280028,
  exchangeUnbindOk: 0x00280033,
  queueDeclare: 0x0032000a,
  queueDeclareOk: 0x0032000b,
  queueBind: 0x00320014,
  queueBindOk: 0x00320015,
  queuePurge: 0x0032001e,
  queuePurgeOk: 0x0032001f,
  queueDelete: 0x00320028,
  queueDeleteOk: 0x00320029,
  queueUnbind: 0x00320032,
  queueUnbindOk: 0x00320033,
  basicQos: 0x003c000a,
  basicQosOk: 0x003c000b,
  basicConsume: 0x003c0014,
  basicConsumeOk: 0x003c0015,
  basicCancel: 0x003c001e,
  basicCancelOk: 0x003c001f,
  basicPublish: 0x003c0028,
  basicReturn: 0x003c0032,
  basicDeliver: 0x003c003c,
  basicGet: 0x003c0046,
  basicGetOk: 0x003c0047,
  basicGetEmpty: 0x003c0048,
  basicAck: 0x003c0050,
  basicReject: 0x003c005a,
  basicRecoverAsync: 0x003c0064,
  basicRecover: 0x003c006e,
  basicRecoverOk: 0x003c006f,
  basicNack: 0x003c0078,
  txSelect: 0x005a000a,
  txCommit: 0x005a0014,
  txRollback: 0x005a001e,
  confirmSelect: 0x0055000a,
  confirmSelectOk: 0x0055000b,
} as const;

export type MethodId = (typeof METHOD)[keyof typeof METHOD];

/** The basic class: the one content class of AMQP 0-9-1. */
export const BASIC_CLASS = 60;
export const FRAME_TYPE = { method: 1, header: 2, body: 3, heartbeat: 8 } as const;
/** Frame header (7 bytes) + frame end (1 byte). */
export const FRAME_OVERHEAD = 8;
export const PROTOCOL_HEADER = Buffer.from("AMQP\x00\x00\x09\x01", "latin1");
export const HEARTBEAT = frame.HEARTBEAT_BUF;

export type Fields = Record<string, unknown>;

export type InboundFrame =
  | {
      readonly kind: "method";
      readonly channel: number;
      readonly id: number;
      readonly fields: Fields;
    }
  | {
      readonly kind: "header";
      readonly channel: number;
      readonly classId: number;
      readonly size: number;
      readonly properties: Fields;
    }
  | { readonly kind: "body"; readonly channel: number; readonly content: Buffer }
  | { readonly kind: "heartbeat" };

/** A frame the peer sent that cannot be read: a connection error with this reply code. */
export class FrameError extends Error {
  readonly replyCode: number;

  constructor(replyCode: number, message: string) {
    super(message);
    this.replyCode = replyCode;
    this.name = "FrameError";
  }
}

/**
 * Accumulates socket chunks and yields whole frames. `maxFrame` is the negotiated frame_max
 * (frames larger than that are a FRAME_ERROR, as RabbitMQ treats them).
 */
export class FrameReader {
  private pending: Buffer = Buffer.alloc(0);
  maxFrame = 131072;

  push(chunk: Buffer): InboundFrame[] {
    let buffer = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    const frames: InboundFrame[] = [];
    for (;;) {
      if (buffer.length >= 7) {
        const size = buffer.readUInt32BE(3);
        if (size + FRAME_OVERHEAD > this.maxFrame) {
          throw new FrameError(
            501,
            `frame size ${size + FRAME_OVERHEAD} exceeds frame_max ${this.maxFrame}`,
          );
        }
      }
      let raw: ReturnType<typeof frame.parseFrame>;
      try {
        raw = frame.parseFrame(buffer);
      } catch {
        throw new FrameError(501, "frame does not end with frame-end (0xCE)");
      }
      if (raw === false) break;
      frames.push(decode(raw.type, raw.channel, raw.payload));
      buffer = raw.rest;
    }
    // Copy the leftover: it may be a view on a chunk that is otherwise garbage.
    this.pending = buffer.length === 0 ? Buffer.alloc(0) : Buffer.from(buffer);
    return frames;
  }
}

function decode(type: number, channel: number, payload: Buffer): InboundFrame {
  try {
    switch (type) {
      case FRAME_TYPE.method: {
        const id = payload.readUInt32BE(0);
        return { kind: "method", channel, id, fields: defs.decode(id, payload.subarray(4)) };
      }
      case FRAME_TYPE.header: {
        const classId = payload.readUInt16BE(0);
        const size = Number(payload.readBigUInt64BE(4));
        return {
          kind: "header",
          channel,
          classId,
          size,
          properties: defs.decode(classId, payload.subarray(12)),
        };
      }
      case FRAME_TYPE.body:
        return { kind: "body", channel, content: payload };
      case FRAME_TYPE.heartbeat:
        return { kind: "heartbeat" };
    }
  } catch (error) {
    throw new FrameError(502, `malformed frame: ${(error as Error).message}`);
  }
  throw new FrameError(501, `unknown frame type ${type}`);
}

export function encodeMethod(id: MethodId, channel: number, fields: Fields): Buffer {
  return defs.encodeMethod(id, channel, fields);
}

/**
 * A message as frames: the method (basic.deliver, basic.get-ok, basic.return), the content
 * header with its properties, then the body cut to frame_max.
 */
export function encodeContent(
  id: MethodId,
  channel: number,
  fields: Fields,
  properties: Fields,
  body: Buffer,
  frameMax: number,
): Buffer[] {
  const frames = [
    defs.encodeMethod(id, channel, fields),
    defs.encodeProperties(BASIC_CLASS, channel, body.length, properties),
  ];
  const chunk = frameMax - FRAME_OVERHEAD;
  for (let offset = 0; offset < body.length; offset += chunk) {
    frames.push(frame.makeBodyFrame(channel, body.subarray(offset, offset + chunk)));
  }
  return frames;
}

export function methodName(id: number): string {
  try {
    return defs.info(id).name;
  } catch {
    return `method ${id >>> 16}/${id & 0xffff}`;
  }
}

/**
 * Types for the parts of amqplib 0.10.x used as this bridge's AMQP 0-9-1 codec. amqplib's
 * `lib/defs.js` is generated from RabbitMQ's AMQP 0-9-1 specification and encodes and decodes
 * every method, the basic properties and field tables; `lib/frame.js` reads frames. They are
 * amqplib's own internals (not its public API), hence the exact version pin in package.json.
 */
declare module "amqplib/lib/defs.js" {
  const defs: {
    readonly constants: Readonly<Record<string, number>>;
    decode(id: number, payload: Buffer): Record<string, unknown>;
    encodeMethod(id: number, channel: number, fields: Record<string, unknown>): Buffer;
    encodeProperties(
      classId: number,
      channel: number,
      size: number,
      fields: Record<string, unknown>,
    ): Buffer;
    info(id: number): {
      readonly name: string;
      readonly classId: number;
      readonly methodId: number;
    };
  } & Readonly<Record<string, unknown>>;
  export default defs;
}

declare module "amqplib/lib/frame.js" {
  interface RawFrame {
    readonly type: number;
    readonly channel: number;
    readonly size: number;
    readonly payload: Buffer;
    readonly rest: Buffer;
  }
  const frame: {
    parseFrame(buffer: Buffer): RawFrame | false;
    decodeFrame(frame: RawFrame): {
      readonly id?: number;
      readonly channel: number;
      readonly size?: number;
      readonly fields?: Record<string, unknown>;
      readonly content?: Buffer;
    };
    makeBodyFrame(channel: number, payload: Buffer): Buffer;
    readonly HEARTBEAT_BUF: Buffer;
    readonly PROTOCOL_HEADER: string;
  };
  export default frame;
}

declare module "amqplib/lib/codec.js" {
  const codec: {
    decodeFields(slice: Buffer): Record<string, unknown>;
  };
  export default codec;
}

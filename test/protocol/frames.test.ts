/**
 * The consumer and producer frames as the protocol module builds and reads them, byte for byte
 * as docs/websocket-protocol.md shows them.
 */
import { describe, expect, it } from "vitest";
import protocolDoc from "../../docs/websocket-protocol.md?raw";
import { batchedDelivery, deliverBatchFrame, deliverFrame } from "../../src/protocol/deliver-frame";
import { ERROR_STATUS, FRAME_ERROR } from "../../src/protocol/error-codes";
import { errorFrame, parseConsumerFrame, parsePublishFrame } from "../../src/protocol/frames";
import type { StoredMessage } from "../../src/protocol/message";

const encoder = new TextEncoder();

function stored(overrides: Partial<StoredMessage> = {}): StoredMessage {
  return {
    seq: 1,
    exchange: "orders",
    routingKey: "order.created",
    properties: { delivery_mode: 2 },
    body: encoder.encode('{"id":1}'),
    redelivered: false,
    deliveryCount: 0,
    ...overrides,
  };
}

describe("deliver frames", () => {
  it("spell a first delivery as the protocol document shows it", () => {
    expect(JSON.stringify(deliverFrame(stored(), "c1", 1))).toBe(
      '{"type":"deliver","tag":"c1","delivery_tag":1,"redelivered":false,"delivery_count":1,' +
        '"exchange":"orders","routing_key":"order.created","properties":{"delivery_mode":2},' +
        '"payload":"{\\"id\\":1}","payload_encoding":"string"}',
    );
  });

  it("count earlier deliveries in x-delivery-count and keep the message's own headers", () => {
    const message = stored({
      redelivered: true,
      deliveryCount: 2,
      properties: { headers: { trace: "t-1" } },
    });
    const frame = deliverFrame(message, "c1", 7);
    expect(frame).toMatchObject({ redelivered: true, delivery_count: 3 });
    expect(frame.properties).toEqual({ headers: { trace: "t-1", "x-delivery-count": 2 } });
    expect(message.properties).toEqual({ headers: { trace: "t-1" } });
  });

  it("carry a body that is not UTF-8 as base64", () => {
    const frame = deliverFrame(stored({ body: new Uint8Array([0xff, 0x00]) }), "c1", 1);
    expect(frame).toMatchObject({ payload: "/wA=", payload_encoding: "base64" });
  });

  it("batch a round's deliveries without type and tag, in order", () => {
    const first = batchedDelivery(deliverFrame(stored({ body: encoder.encode("a") }), "c1", 1));
    const second = batchedDelivery(deliverFrame(stored({ body: encoder.encode("b") }), "c1", 2));
    expect(first).not.toHaveProperty("type");
    expect(first).not.toHaveProperty("tag");
    expect(JSON.stringify(deliverBatchFrame("c1", [first, second]))).toMatch(
      /^\{"type":"deliver","tag":"c1","deliveries":\[\{"delivery_tag":1,.*"payload":"a".*\},\{"delivery_tag":2,.*"payload":"b".*\}\]\}$/,
    );
  });
});

describe("reading client frames", () => {
  it("reads the plain ack list as the schema does, and leaves anything else to the schema", () => {
    const read = (frame: unknown) => {
      const parsed = parseConsumerFrame(JSON.stringify(frame));
      return parsed.ok ? parsed.frame : parsed.code;
    };
    expect(read({ type: "ack", delivery_tags: [3, 1] })).toEqual({
      type: "ack",
      delivery_tags: [3, 1],
      multiple: false,
    });
    expect(read({ type: "ack", delivery_tags: [2], multiple: true })).toEqual({
      type: "ack",
      delivery_tags: [2],
      multiple: true,
    });
    // Unknown fields are dropped, as the schema drops them.
    expect(read({ type: "ack", delivery_tags: [2], note: "x" })).toEqual({
      type: "ack",
      delivery_tags: [2],
      multiple: false,
    });
    expect(read({ type: "ack", delivery_tag: 4, delivery_tags: [2] })).toEqual({
      type: "ack",
      delivery_tag: 4,
      delivery_tags: [2],
      multiple: false,
    });
    for (const bad of [
      { type: "ack", delivery_tags: [] },
      { type: "ack", delivery_tags: [0] },
      { type: "ack", delivery_tags: [-1] },
      { type: "ack", delivery_tags: [1.5] },
      { type: "ack", delivery_tags: [2 ** 53] },
      { type: "ack", delivery_tags: ["1"] },
      { type: "ack", delivery_tags: [1], multiple: "yes" },
      { type: "ack", delivery_tags: Array.from({ length: 100_000 }, (_, i) => i + 1) },
    ]) {
      expect(read(bad), JSON.stringify(bad).slice(0, 60)).not.toHaveProperty("type");
    }
  });

  it("answers each kind of refusal with its code from the one map", () => {
    const refusals = [
      parseConsumerFrame("{"),
      parseConsumerFrame('{"type":"dance"}'),
      parseConsumerFrame('{"type":"ack"}'),
      parseConsumerFrame(`{"type":"cancel","tag":"${"x".repeat(70_000)}"}`),
      parsePublishFrame('{"type":"publish","seq":0,"exchange":""}', 1024),
    ];
    const codes = refusals.map((parsed) => (parsed.ok ? "parsed" : parsed.code));
    expect(codes).toEqual([
      "bad_frame",
      "unknown_frame",
      "bad_frame",
      "frame_too_large",
      "bad_frame",
    ]);
    for (const code of codes) expect(Object.keys(FRAME_ERROR)).toContain(code);
  });

  it("fills a consume frame's defaults", () => {
    const parsed = parseConsumerFrame('{"type":"consume","tag":"c1"}');
    expect(parsed).toMatchObject({
      ok: true,
      frame: { type: "consume", tag: "c1", ack: "manual", exclusive: false, batch: false },
    });
  });

  it("reads a single publish and a list alike, as entries", () => {
    const single = parsePublishFrame(
      '{"type":"publish","seq":1,"exchange":"","routing_key":"k","payload":"p"}',
      1024,
    );
    const list = parsePublishFrame(
      '{"type":"publish","messages":[{"seq":2,"exchange":"","routing_key":"k","payload":"p"}]}',
      1024,
    );
    expect(single).toEqual({
      ok: true,
      frame: [{ seq: 1, exchange: "", routing_key: "k", payload: "p" }],
    });
    expect(list).toEqual({
      ok: true,
      frame: [{ seq: 2, exchange: "", routing_key: "k", payload: "p" }],
    });
  });
});

describe("error codes", () => {
  it("are the ones docs/websocket-protocol.md lists, each of the socket-only ones documented", () => {
    const table = protocolDoc.slice(protocolDoc.indexOf("| error code | cause |"));
    const listed = [...table.matchAll(/^\| `([a-z_]+)` \|/gm)].map((row) => row[1]);
    expect(listed.length).toBeGreaterThan(5);
    for (const code of listed)
      expect(Object.keys({ ...ERROR_STATUS, ...FRAME_ERROR })).toContain(code);
    for (const code of Object.keys(FRAME_ERROR)) expect(protocolDoc).toContain(`\`${code}\``);
  });

  it("keep socket-only codes apart from the HTTP ones", () => {
    for (const code of Object.keys(FRAME_ERROR)) expect(ERROR_STATUS).not.toHaveProperty(code);
  });

  it("spell an error frame with the refused frame's type only when given", () => {
    expect(JSON.stringify(errorFrame("bad_frame", "no"))).toBe(
      '{"type":"error","code":"bad_frame","reason":"no"}',
    );
    expect(JSON.stringify(errorFrame("unknown_consumer", "no", "cancel"))).toBe(
      '{"type":"error","code":"unknown_consumer","reason":"no","frame":"cancel"}',
    );
  });
});

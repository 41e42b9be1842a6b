/**
 * The publish path's fast reader against the schemas it stands in for: over generated frames and
 * property sets, valid and not, whatever the fast reader accepts the schema accepts with the same
 * value, and whatever it declines is left to the schema (so every error is the schema's).
 */
import { describe, expect, it } from "vitest";
import { LIMITS } from "../../src/config";
import { parsePublishFrame, publishFrameBySchema } from "../../src/protocol/frames";
import { basicPropertiesSchema } from "../../src/protocol/properties";
import {
  plainPublishList,
  plainPublishSingle,
  propertiesJsonBound,
} from "../../src/protocol/publish-fast-read";
import { propertyCases } from "./publish-property-cases";

const SINGLE_LIMIT = 1024 * 1024;

/** Every value as it arrives: parsed from its JSON text. */
function parsed(text: string): unknown {
  return JSON.parse(text);
}

const message = '"routing_key":"k","payload":"hello","payload_encoding":"string"';

/** Single-message frames: each envelope field right, wrong, missing; message fields or not. */
function singleFrameTexts(): string[] {
  const types = ['"type":"publish",', '"type":"Publish",', '"type":1,', ""];
  const seqs = [
    '"seq":1,',
    '"seq":42,',
    `"seq":${Number.MAX_SAFE_INTEGER},`,
    `"seq":${Number.MAX_SAFE_INTEGER + 1},`,
    '"seq":1e+21,',
    '"seq":0,',
    '"seq":-0,',
    '"seq":-1,',
    '"seq":1.5,',
    '"seq":"1",',
    '"seq":null,',
    "",
  ];
  const exchanges = ['"exchange":"orders"', '"exchange":""', '"exchange":1', '"exchange":null'];
  const rests = [
    "",
    `,${message}`,
    `,${message},"properties":{"delivery_mode":2}`,
    ',"routing_key":1,"payload":null,"payload_encoding":"utf8"',
    ',"extra":{"nested":[1,2]}',
    ',"properties":{"unknown":1}',
  ];
  const texts: string[] = [];
  for (const type of types)
    for (const seq of seqs)
      for (const exchange of exchanges)
        for (const rest of rests) texts.push(`{${type}${seq}${exchange}${rest}}`);
  texts.push('{"type":"publish","exchange":"orders","seq":7}'); // seq last
  texts.push('{"seq":7,"exchange":"orders","type":"publish"}');
  texts.push("[]", "null", '"publish"', "1");
  return texts;
}

function entry(seq: number, fields = message): string {
  return `{"seq":${seq},"exchange":"orders",${fields}}`;
}

/** List frames: the list empty, full, too long, not a list; entries right and wrong. */
function listFrameTexts(): string[] {
  const many = (n: number) => Array.from({ length: n }, (_, i) => entry(i + 1)).join(",");
  const lists = [
    "[]",
    `[${entry(1)}]`,
    `[${entry(1)},${entry(2)}]`,
    `[${many(LIMITS.maxBatchMessages)}]`,
    `[${many(LIMITS.maxBatchMessages + 1)}]`,
    `[${entry(1)},null]`,
    `[${entry(1)},[]]`,
    `[${entry(1)},"m"]`,
    `[${entry(1)},${entry(0)}]`,
    `[${entry(1)},{"seq":2}]`,
    `[${entry(1)},{"seq":2,"exchange":7}]`,
    `[${entry(1)},{"seq":2.5,"exchange":"orders"}]`,
    `[${entry(1, '"type":"deliver","anything":[1]')}]`,
    `[${entry(1, '"routing_key":5')}]`,
    '{"0":{"seq":1,"exchange":"orders"}}',
    '"messages"',
    "null",
  ];
  const heads = ['"type":"publish",', '"type":"publish","extra":1,', '"type":"ack",', ""];
  const texts: string[] = [];
  for (const head of heads) for (const list of lists) texts.push(`{${head}"messages":${list}}`);
  return texts;
}

function isList(value: unknown): boolean {
  return typeof value === "object" && value !== null && "messages" in value;
}

describe("the fast publish frame reader", () => {
  it("accepts only frames the schema accepts, with the same entries", () => {
    let accepted = 0;
    let refusedBySchema = 0;
    for (const text of [...singleFrameTexts(), ...listFrameTexts()]) {
      const value = parsed(text);
      const list = isList(value);
      const fast = list ? plainPublishList(value) : plainPublishSingle(value);
      const schema = publishFrameBySchema(parsed(text), list);
      if (!schema.ok) refusedBySchema++;
      if (fast === null) continue;
      accepted++;
      expect(schema, text.slice(0, 200)).toEqual({ ok: true, frame: fast });
    }
    // The generated set exercises both sides: many frames read fast, many the schema refuses.
    expect(accepted).toBeGreaterThan(40);
    expect(refusedBySchema).toBeGreaterThan(500);
  });

  it("reads every plain frame fast: the envelope right, whatever the message fields", () => {
    for (const text of singleFrameTexts()) {
      const value = parsed(text);
      const plain = /^\{"type":"publish","seq":(1|42|9007199254740991),"exchange":"(orders|)"/;
      if (plain.test(text)) expect(plainPublishSingle(value), text).not.toBeNull();
    }
    const list = parsed(`{"type":"publish","messages":[${entry(1)},${entry(2)}]}`);
    expect(plainPublishList(list)).toEqual([
      {
        seq: 1,
        exchange: "orders",
        routing_key: "k",
        payload: "hello",
        payload_encoding: "string",
      },
      {
        seq: 2,
        exchange: "orders",
        routing_key: "k",
        payload: "hello",
        payload_encoding: "string",
      },
    ]);
  });

  it("answers every frame exactly as the schema does, errors included", () => {
    for (const text of [...singleFrameTexts(), ...listFrameTexts()]) {
      const value = parsed(text);
      expect(parsePublishFrame(text, SINGLE_LIMIT), text.slice(0, 200)).toEqual(
        publishFrameBySchema(value, isList(value)),
      );
    }
  });
});

describe("the fast properties check", () => {
  it("bounds the JSON of exactly the property sets the schema accepts, and from above", () => {
    let bounded = 0;
    let refusedBySchema = 0;
    for (const { text } of propertyCases()) {
      const value = parsed(text);
      const bound = propertiesJsonBound(value);
      const schema = basicPropertiesSchema.safeParse(value);
      if (!schema.success) refusedBySchema++;
      if (bound === Number.POSITIVE_INFINITY) continue;
      bounded++;
      expect(schema.success, text.slice(0, 200)).toBe(true);
      expect(JSON.stringify(value).length, text.slice(0, 200)).toBeLessThanOrEqual(bound);
    }
    expect(bounded).toBeGreaterThan(100);
    expect(refusedBySchema).toBeGreaterThan(50);
  });

  it("bounds every property set of simple scalars and flat headers", () => {
    for (const { text, plain } of propertyCases()) {
      if (plain) expect(propertiesJsonBound(parsed(text)), text.slice(0, 200)).not.toBe(Infinity);
    }
  });
});

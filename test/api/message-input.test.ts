/**
 * A publish body read fast against the schema path it stands in for: over generated bodies
 * (every generated property set, each body field right, wrong and missing, extra keys), a body
 * the fast reader takes is one the schema and the size check take with the same fields, and
 * toMessage answers every body, refused ones included, as the schema path does.
 */
import { describe, expect, it } from "vitest";
import { publishBodyBySchema, toMessage } from "../../src/api/message-input";
import { loadConfig } from "../../src/config";
import { BrokerError } from "../../src/errors";
import { entryAsPublishBody, parsePublishFrame } from "../../src/protocol/frames";
import { isPlainPublishBody } from "../../src/protocol/publish-fast-read";
import { propertyCases } from "../protocol/publish-property-cases";

const config = loadConfig({ MAX_MESSAGE_BYTES: "65536" });

interface BodyCase {
  readonly text: string;
  readonly plain: boolean;
}

/** Each property set in a plain body, then the body's other fields varied around plain ones. */
function bodyCases(): BodyCase[] {
  const cases: BodyCase[] = [];
  const fields = '"routing_key":"order.created","payload":"hello","payload_encoding":"string"';
  for (const { text, plain } of propertyCases()) {
    cases.push({ text: `{"properties":${text},${fields}}`, plain });
  }
  // Each field as [JSON, whether the fast reader should take it].
  const properties: [string, boolean][] = [
    ['"properties":{"delivery_mode":2},', true],
    ['"properties":null,', false],
    ["", false],
  ];
  const routingKeys: [string, boolean][] = [
    ['"routing_key":"k",', true],
    ['"routing_key":"",', true],
    ['"routing_key":1,', false],
    ["", false],
  ];
  const payloads: [string, boolean][] = [
    ['"payload":"hello",', true],
    ['"payload":"",', true],
    ['"payload":"not base64!",', true],
    ['"payload":1,', false],
    ['"payload":{},', false],
    ["", false],
  ];
  const encodings: [string, boolean][] = [
    ['"payload_encoding":"string"', true],
    ['"payload_encoding":"base64"', true],
    ['"payload_encoding":"utf8"', false],
    ['"payload_encoding":null', false],
    ["", false],
  ];
  for (const [p, pPlain] of properties) {
    for (const [r, rPlain] of routingKeys) {
      for (const [payload, payloadPlain] of payloads) {
        for (const [encoding, encodingPlain] of encodings) {
          const body = `{${p}${r}${payload}${encoding}}`.replace(/,}$/, "}");
          const plain = pPlain && rPlain && payloadPlain && encodingPlain;
          cases.push({ text: body, plain });
          // A key the schema does not know is dropped by it (the body is not strict).
          cases.push({ text: body.replace(/^\{/, '{"extra":[1],').replace(/,}$/, "}"), plain });
        }
      }
    }
  }
  for (const text of ["null", "[]", '"body"', "1", "{}"]) cases.push({ text, plain: false });
  return cases;
}

type Answer = { ok: true; value: unknown } | { ok: false; code: string; reason: string };

function answer(read: () => unknown): Answer {
  try {
    return { ok: true, value: read() };
  } catch (error) {
    if (!(error instanceof BrokerError)) throw error;
    return { ok: false, code: error.code, reason: error.reason };
  }
}

describe("reading a publish body", () => {
  it("takes fast only bodies the schema and the size check take, with the same fields", () => {
    let fast = 0;
    let refusedBySchema = 0;
    for (const { text } of bodyCases()) {
      const raw = JSON.parse(text) as unknown;
      const schema = answer(() => publishBodyBySchema(raw));
      if (!schema.ok) refusedBySchema++;
      if (!isPlainPublishBody(raw)) continue;
      fast++;
      const { routing_key, payload, payload_encoding, properties } = raw;
      expect(schema, text.slice(0, 200)).toEqual({
        ok: true,
        value: { routing_key, payload, payload_encoding, properties },
      });
    }
    expect(fast).toBeGreaterThan(100);
    expect(refusedBySchema).toBeGreaterThan(100);
  });

  it("takes fast every plain body", () => {
    for (const { text, plain } of bodyCases()) {
      if (plain) expect(isPlainPublishBody(JSON.parse(text)), text.slice(0, 200)).toBe(true);
    }
  });

  it("answers every body as the schema path does, refusals and their reasons included", () => {
    for (const { text } of bodyCases()) {
      const raw = JSON.parse(text) as unknown;
      for (const where of ["", "messages.3"]) {
        const viaSchema = answer(() => {
          const body = publishBodyBySchema(raw, where);
          // The same object the fast reader would read, so toMessage's remaining checks run.
          return toMessage("orders", body, config, where);
        });
        expect(
          answer(() => toMessage("orders", raw, config, where)),
          text.slice(0, 200),
        ).toEqual(viaSchema);
      }
    }
  });

  it("reads a frame's entry with its defaults as the entry spread over them", () => {
    const frames = [
      '{"type":"publish","seq":1,"exchange":"orders","routing_key":"k","payload":"hi"}',
      '{"type":"publish","seq":1,"exchange":"orders","routing_key":"k","payload":"aGk=","payload_encoding":"base64"}',
      '{"type":"publish","seq":1,"exchange":"orders","routing_key":"k","payload":"hi","properties":{"priority":1}}',
      '{"type":"publish","seq":1,"exchange":"orders","routing_key":"k","payload":"hi","properties":null}',
      '{"type":"publish","seq":1,"exchange":"orders","routing_key":"k","payload":"hi","payload_encoding":null}',
      '{"type":"publish","seq":1,"exchange":"orders","payload":"hi","properties":{"bad":1}}',
      '{"type":"publish","messages":[{"seq":1,"exchange":"orders","routing_key":"k","payload":"hi"}]}',
    ];
    for (const text of frames) {
      const parsed = parsePublishFrame(text, 1024 * 1024);
      if (!parsed.ok) throw new Error(`${text}: ${parsed.reason}`);
      for (const entry of parsed.frame) {
        const spread = { properties: {}, payload_encoding: "string", ...entry };
        expect(
          answer(() => toMessage("orders", entryAsPublishBody(entry), config)),
          text,
        ).toEqual(answer(() => toMessage("orders", spread, config)));
      }
    }
  });

  it("keeps the client's properties object, key order included", () => {
    const raw = JSON.parse(
      '{"properties":{"timestamp":1,"content_type":"a","headers":{"z":1,"a":2}},' +
        '"routing_key":"k","payload":"x","payload_encoding":"string"}',
    ) as { properties: unknown };
    const message = toMessage("orders", raw, config);
    expect(message.properties).toBe(raw.properties);
    expect(JSON.stringify(message.properties)).toBe(
      '{"timestamp":1,"content_type":"a","headers":{"z":1,"a":2}}',
    );
  });
});

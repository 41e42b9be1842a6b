/**
 * Generated message property sets, as JSON text, for the agreement tests of the fast publish
 * reader: each key of basicPropertiesSchema with values it accepts and values it refuses, pairs of
 * keys, unknown keys, headers flat and nested, and sets whose JSON is near LIMITS.maxPropertiesBytes.
 * `plain` marks the sets the fast reader is meant to take (valid, simple, clearly small enough).
 */
import { LIMITS } from "../../src/config";

export interface PropertyCase {
  readonly text: string;
  readonly plain: boolean;
}

const STRING_KEYS = [
  "content_type",
  "content_encoding",
  "correlation_id",
  "reply_to",
  "message_id",
  "type",
  "user_id",
  "app_id",
  "cluster_id",
];

const STRINGS = ['""', '"text/plain"', '"ü€😀"', '"quote\\"back\\\\slash"', '"\\u0001ctl"'];
const NOT_STRINGS = ["1", "null", "true", "{}", '["a"]'];

/** Per key: JSON values the schema accepts (`valid`) and refuses (`invalid`). */
const VALUES: Record<string, { valid: string[]; invalid: string[] }> = {
  ...Object.fromEntries(STRING_KEYS.map((key) => [key, { valid: STRINGS, invalid: NOT_STRINGS }])),
  expiration: {
    valid: ['"0"', '"60000"', '"007"'],
    invalid: ['""', '"1.5"', '"-1"', '"1e3"', '" 1"', '"٣"', "60000", "null"],
  },
  delivery_mode: { valid: ["1", "2", "2.0"], invalid: ["0", "3", "1.5", '"2"', "null", "true"] },
  priority: {
    valid: ["0", "-0", "9", "255"],
    invalid: ["-1", "256", "1.5", '"1"', "null", "9007199254740993"],
  },
  timestamp: {
    valid: ["0", "-0", "1700000000", "9007199254740991"],
    invalid: ["-1", "9007199254740992", "1.5", "1e+21", '"1"', "null"],
  },
  headers: {
    valid: [
      "{}",
      '{"trace":"t-1"}',
      '{"n":1.5,"big":-1.2345678901234567e-300,"tiny":-0.0000012345678901234567,"b":true,"z":null}',
      '{"ü\\u0001":"v\\"","":""}',
    ],
    invalid: ["[]", '"x"', "null", "1"],
  },
};

/** Headers the schema accepts but the fast reader leaves to it: nested tables. */
const NESTED_HEADERS = ['{"a":{"b":1}}', '{"list":[1,"two"]}', '{"x-death":[{"count":1}]}'];

function deeplyNested(depth: number): string {
  return `${'{"a":'.repeat(depth)}1${"}".repeat(depth)}`;
}

function big(key: string, char: string, length: number): string {
  return `{"${key}":"${char.repeat(length)}"}`;
}

export function propertyCases(): PropertyCase[] {
  const cases: PropertyCase[] = [
    { text: "{}", plain: true },
    { text: '{"delivery_mode":2}', plain: true },
    {
      text: '{"content_type":"application/json","message_id":"m-1","timestamp":1700000000}',
      plain: true,
    },
  ];
  const keys = Object.keys(VALUES);
  for (const key of keys) {
    const { valid, invalid } = VALUES[key] as { valid: string[]; invalid: string[] };
    for (const value of valid) cases.push({ text: `{"${key}":${value}}`, plain: true });
    for (const value of invalid) cases.push({ text: `{"${key}":${value}}`, plain: false });
    // A valid key beside a wrong one: the one wrong value decides.
    for (const value of invalid) {
      cases.push({ text: `{"delivery_mode":2,"${key}":${value}}`, plain: false });
    }
  }
  // Every pair of keys, and every key at once, with valid values.
  for (const a of keys) {
    for (const b of keys) {
      if (a >= b) continue;
      const va = VALUES[a]?.valid.at(-1);
      const vb = VALUES[b]?.valid.at(-1);
      cases.push({ text: `{"${a}":${va},"${b}":${vb}}`, plain: true });
    }
  }
  cases.push({
    text: `{${keys.map((k) => `"${k}":${VALUES[k]?.valid[1]}`).join(",")}}`,
    plain: true,
  });
  // Keys the schema does not know (it is strict), one beside valid ones.
  for (const unknown of ['"deliveryMode":2', '"__proto__":1', '"__proto__":{}', '"x":null']) {
    cases.push({ text: `{${unknown}}`, plain: false });
    cases.push({ text: `{"delivery_mode":2,${unknown}}`, plain: false });
  }
  for (const headers of NESTED_HEADERS)
    cases.push({ text: `{"headers":${headers}}`, plain: false });
  cases.push({ text: `{"headers":${deeplyNested(LIMITS.maxTableDepth + 2)}}`, plain: false });
  // Not a set of properties at all.
  for (const text of ["null", "[]", '"x"', "1", "[{}]"]) cases.push({ text, plain: false });
  // Near the size limit: plain ASCII (one JSON character each), quotes (two), control
  // characters (six), around the limit itself and around where the fast bound gives up.
  const limit = LIMITS.maxPropertiesBytes;
  const overhead = '{"content_type":""}'.length;
  for (const delta of [-1, 0, 1]) {
    cases.push({ text: big("content_type", "a", limit - overhead + delta), plain: false });
    const quotes = Math.floor((limit - overhead) / 2) + delta;
    cases.push({ text: big("content_type", '\\"', quotes), plain: false });
    const controls = Math.floor((limit - overhead) / 6) + delta;
    cases.push({ text: big("content_type", "\\u0001", controls), plain: false });
    const fastEdge = Math.floor((limit - 2 - "content_type".length - 4 - 2) / 6) + delta;
    cases.push({ text: big("content_type", "a", fastEdge), plain: delta <= 0 });
  }
  const header = (i: number) => `"h${String(i).padStart(5, "0")}":"${"v".repeat(20)}"`;
  const perHeader = header(0).length + 1;
  for (const count of [Math.floor(limit / perHeader) - 1, Math.floor(limit / perHeader) + 1]) {
    const headers = Array.from({ length: count }, (_, i) => header(i)).join(",");
    cases.push({ text: `{"headers":{${headers}}}`, plain: false });
  }
  return cases;
}

/**
 * Policies and operator policies as RabbitMQ 3.10's management API takes and shows them
 * (`/api/policies/{vhost}/{name}`, `/api/operator-policies/...`): a pattern over queue names, what
 * it applies to, a priority and a definition of queue settings. The checks and their reasons are
 * RabbitMQ's, word for word (probed on a real node: docs/queue-features.md), including its
 * quirk of HTML-escaping Erlang binaries (`&lt;&lt;"a"&gt;&gt;`) in a policy's reasons but not in
 * an operator policy's.
 */
import { type Failure, fail } from "../errors";

export const POLICY_KINDS = ["policy", "operator_policy"] as const;
export type PolicyKind = (typeof POLICY_KINDS)[number];

export const APPLY_TO = ["queues", "exchanges", "all"] as const;
export type ApplyTo = (typeof APPLY_TO)[number];

export type PolicyDefinition = Readonly<Record<string, number | string>>;

/** A policy as the API shows it (RabbitMQ's field names and order). */
export interface Policy {
  readonly vhost: string;
  readonly name: string;
  readonly pattern: string;
  readonly "apply-to": ApplyTo;
  readonly definition: PolicyDefinition;
  readonly priority: number;
}

/** What a queue shows and applies: `policy`, `operator_policy`, `effective_policy_definition`. */
export interface AppliedPolicy {
  readonly policy: string | null;
  readonly operatorPolicy: string | null;
  readonly definition: PolicyDefinition;
}

export const NO_POLICY: AppliedPolicy = { policy: null, operatorPolicy: null, definition: {} };

export function isNoPolicy(applied: AppliedPolicy): boolean {
  return applied.policy === null && applied.operatorPolicy === null;
}

type Check = (value: unknown) => boolean;

const nonNegativeInteger: Check = (v) => Number.isInteger(v) && (v as number) >= 0;
const positiveInteger: Check = (v) => Number.isInteger(v) && (v as number) >= 1;
const isString: Check = (v) => typeof v === "string";

/** Each setting a definition may hold: its check and RabbitMQ's words for a bad value. */
const SETTINGS: Readonly<Record<string, { check: Check; what: string }>> = {
  "message-ttl": { check: nonNegativeInteger, what: "message TTL" },
  expires: { check: positiveInteger, what: "queue expiry" },
  "max-length": { check: nonNegativeInteger, what: "maximum length" },
  "max-length-bytes": { check: nonNegativeInteger, what: "maximum length in bytes" },
  overflow: {
    check: (v) => v === "drop-head" || v === "reject-publish" || v === "reject-publish-dlx",
    what: "overflow value",
  },
  "dead-letter-exchange": { check: isString, what: "dead letter exchange name" },
  "dead-letter-routing-key": { check: isString, what: "dead letter routing key" },
  "delivery-limit": { check: nonNegativeInteger, what: "delivery limit" },
};

/**
 * What an operator policy may set (RabbitMQ 3.10): only limits, which it can lower and never
 * raise. `max-priority` is a queue argument only, in either kind, as in RabbitMQ.
 */
const OPERATOR_SETTINGS = new Set([
  "message-ttl",
  "expires",
  "max-length",
  "max-length-bytes",
  "delivery-limit",
]);

/** The numeric settings on which a policy, an operator policy and an argument meet at the minimum. */
export const MINIMUM_SETTINGS = OPERATOR_SETTINGS;

export const SETTING_NAMES = Object.keys(SETTINGS);

/** An Erlang term as RabbitMQ's reasons print it (~p): binaries as <<"...">>. */
function term(value: unknown, escaped: boolean): string {
  let text: string;
  if (typeof value === "string") text = `<<${JSON.stringify(value)}>>`;
  else if (typeof value === "number" || typeof value === "boolean") text = String(value);
  else if (value === null) text = "null";
  else text = JSON.stringify(value);
  return escaped ? text.replaceAll("<", "&lt;").replaceAll(">", "&gt;") : text;
}

const invalid = (detail: string): Failure =>
  fail("bad_request", `Validation failed\n\n${detail}\n`);

/**
 * Reads a PUT body into a policy, or answers RabbitMQ's reason. `checkPattern` compiles the
 * pattern (RE2, as every user-supplied regex here: src/access/bounded-regex.ts) and answers
 * its complaint, or null.
 */
export function parsePolicy(
  kind: PolicyKind,
  vhost: string,
  name: string,
  body: unknown,
  checkPattern: (pattern: string) => string | null,
): Policy | Failure {
  const escaped = kind === "policy";
  const fields = (typeof body === "object" && body !== null ? body : {}) as Record<string, unknown>;
  const missing = ["pattern", "definition"].filter((key) => fields[key] === undefined);
  if (missing.length > 0) {
    return fail("bad_request", `[${missing.map((key) => `{key_missing,${key}}`).join(",")}]`);
  }
  const { pattern, definition } = fields;
  const applyTo = fields["apply-to"] ?? "all";
  const priority = fields.priority ?? 0;
  if (typeof pattern !== "string") {
    return invalid(`pattern should be a binary but was ${term(pattern, escaped)}`);
  }
  const patternProblem = checkPattern(pattern);
  if (patternProblem !== null) {
    return invalid(`pattern should be regular expression but is invalid: ${patternProblem}`);
  }
  if (typeof applyTo !== "string" || !(APPLY_TO as readonly string[]).includes(applyTo)) {
    return invalid(
      `apply-to '${String(applyTo)}' unrecognised; should be 'queues', 'exchanges' or 'all'`,
    );
  }
  if (!Number.isInteger(priority)) {
    return invalid(`priority should be a number, actually was ${term(priority, escaped)}`);
  }
  if (typeof definition !== "object" || definition === null || Array.isArray(definition)) {
    return invalid("no policy provided");
  }
  const entries = Object.entries(definition as Record<string, unknown>);
  if (entries.length === 0) return invalid("no policy provided");
  const allowed = (key: string) =>
    key in SETTINGS && (kind === "policy" || OPERATOR_SETTINGS.has(key));
  for (const [key, value] of entries) {
    const setting = SETTINGS[key];
    if (!setting || !allowed(key)) continue;
    if (!setting.check(value)) {
      return invalid(`${term(value, escaped)} is not a valid ${setting.what}`);
    }
  }
  const unknown = entries.filter(([key]) => !allowed(key));
  if (unknown.length > 0) {
    const listed = unknown.map(([key, value]) => `{${term(key, escaped)},${term(value, escaped)}}`);
    return invalid(`[${listed.join(",")}] are not recognised policy settings`);
  }
  const sorted = Object.fromEntries(
    entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
  ) as Record<string, number | string>;
  return {
    vhost,
    name,
    pattern,
    "apply-to": applyTo as ApplyTo,
    definition: sorted,
    priority: priority as number,
  };
}

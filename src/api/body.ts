/**
 * Reading a JSON request body against a zod schema. Every failure is a 4xx with a reason:
 * a body too large (413), not UTF-8 JSON or with a lone UTF-16 surrogate in a string (400), or
 * JSON of the wrong shape (400, naming each missing key the way RabbitMQ does,
 * `[{key_missing,payload}]`, and each key of the wrong type with what it should be and what it
 * was, `[{not_boolean,durable,"yes"}]`).
 */
import type { z } from "zod";
import { LIMITS } from "../config";
import { BrokerError } from "../errors";
import { decodeUtf8, findIllFormed, illFormedReason } from "../protocol/unicode";
import type { AppContext } from "./context";

export async function readJson(
  c: AppContext,
  limit: number = LIMITS.maxRequestBytes,
): Promise<unknown> {
  const declared = Number(c.req.header("Content-Length") ?? "0");
  if (declared > limit) {
    throw new BrokerError("payload_too_large", `request body is larger than ${limit} bytes`);
  }
  const text = decodeUtf8(await c.req.arrayBuffer());
  if (text === null) throw new BrokerError("bad_request", "body is not UTF-8");
  if (text.length > limit) {
    throw new BrokerError("payload_too_large", `request body is larger than ${limit} bytes`);
  }
  if (text.trim() === "") {
    return {};
  }
  let value: unknown;
  try {
    value = JSON.parse(text) as unknown;
  } catch {
    throw new BrokerError("bad_request", "body is not valid JSON");
  }
  // Names and keys must survive a restart unchanged: see src/protocol/unicode.ts.
  const illFormed = findIllFormed(text, value);
  if (illFormed !== null) throw new BrokerError("bad_request", illFormedReason(illFormed));
  return value;
}

export function parseWith<S extends z.ZodType>(schema: S, value: unknown, where = ""): z.infer<S> {
  // reportInput: an issue then carries the value it refused, which tells a key of the wrong type
  // (input present) from a missing key (input absent).
  const parsed = schema.safeParse(value, { reportInput: true });
  if (parsed.success) {
    return parsed.data;
  }
  throw new BrokerError("bad_request", describeIssues(parsed.error.issues, where));
}

export async function parseBody<S extends z.ZodType>(
  c: AppContext,
  schema: S,
): Promise<z.infer<S>> {
  return parseWith(schema, await readJson(c, LIMITS.maxManagementBodyBytes));
}

function describeIssues(issues: readonly z.core.$ZodIssue[], where: string): string {
  const pathOf = (issue: z.core.$ZodIssue) =>
    [where, ...issue.path.map(String)].filter(Boolean).join(".");
  const typed: string[] = [];
  const other: string[] = [];
  for (const issue of issues) {
    const path = pathOf(issue);
    const wrongType = wrongTypeCode(issue);
    if (issue.input === undefined) {
      typed.push(`{key_missing,${path}}`);
    } else if (wrongType !== null) {
      typed.push(`{${wrongType},${path},${shortJson(issue.input)}}`);
    } else {
      other.push(path ? `${path}: ${issue.message}` : issue.message);
    }
  }
  if (typed.length > 0) {
    return [`[${typed.join(",")}]`, ...other].join("; ");
  }
  return other.join("; ");
}

/**
 * RabbitMQ's name for a value of the wrong type (`not_boolean`, `not_integer`, ...): the coercing
 * schemas (src/protocol/coerce.ts) carry it as their message; plain type mismatches get
 * `not_<expected type>`.
 */
function wrongTypeCode(issue: z.core.$ZodIssue): string | null {
  if (issue.message.startsWith("not_")) return issue.message;
  if (issue.code === "invalid_type") return `not_${issue.expected}`;
  return null;
}

function shortJson(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 64 ? `${text.slice(0, 61)}...` : text;
}

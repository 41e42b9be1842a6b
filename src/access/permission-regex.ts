/**
 * Permission regexes as RabbitMQ applies them: `re:run(Name, Regex)` with no implicit anchoring
 * (https://www.rabbitmq.com/docs/access-control#authorisation), so ".*" grants everything, "^a"
 * grants names starting with "a" and "orders" grants every name *containing* "orders"; anchor
 * with "^...$" to grant one name. The empty regex means "nothing" (RabbitMQ rewrites it to "^$";
 * in JavaScript an empty regex would match every name).
 *
 * RabbitMQ's regexes are PCRE; ours run as JavaScript regexes. The two agree on the syntax people
 * write in permissions; where they differ we refuse the regex (400) rather than let it mean
 * something else: PCRE-only escapes such as \A, \z, \Z, \Q...\E or \p would be literal letters in
 * JavaScript, and PCRE-only constructs (possessive or atomic groups, inline flags) do not compile.
 *
 * Administrators write these regexes, but they run on every authorization check, so a regex
 * that can backtrack exponentially (an unbounded quantifier applied to a group that already
 * contains one, such as "(a+)+") is refused too; names are at most 255 bytes.
 */
import { LIMITS } from "../config";
import { type Failure, fail } from "../errors";

/** Escapes JavaScript and PCRE agree on; any other backslash-letter is refused. */
const PORTABLE_ESCAPES = new Set("dDwWsSbBnrtfvx0123456789".split(""));

function checkEscapes(source: string): string | null {
  for (let i = 0; i < source.length; i++) {
    if (source[i] !== "\\") continue;
    const next = source[i + 1];
    if (next === undefined) return "trailing backslash";
    if (/[A-Za-z0-9]/.test(next) && !PORTABLE_ESCAPES.has(next)) {
      return `escape \\${next} is not supported`;
    }
    i++;
  }
  return null;
}

/** True when an unbounded quantifier applies to a group that contains one ("(a+)+", "(a*)*"). */
function hasNestedUnboundedQuantifier(source: string): boolean {
  const groups: boolean[] = [];
  let lastGroupUnbounded = false;
  let containsUnbounded = false;
  for (let i = 0; i < source.length; i++) {
    const ch = source[i];
    if (ch === "\\") {
      i++;
      lastGroupUnbounded = false;
      continue;
    }
    if (ch === "[") {
      // Skip a character class: nothing inside it is a quantifier.
      i++;
      if (source[i] === "^") i++;
      if (source[i] === "]") i++;
      while (i < source.length && source[i] !== "]") {
        if (source[i] === "\\") i++;
        i++;
      }
      lastGroupUnbounded = false;
      continue;
    }
    if (ch === "(") {
      groups.push(containsUnbounded);
      containsUnbounded = false;
      lastGroupUnbounded = false;
      continue;
    }
    if (ch === ")") {
      lastGroupUnbounded = containsUnbounded;
      containsUnbounded = (groups.pop() ?? false) || containsUnbounded;
      continue;
    }
    const unbounded = ch === "*" || ch === "+" || (ch === "{" && /^\{\d*,\}/.test(source.slice(i)));
    if (unbounded) {
      if (lastGroupUnbounded) return true;
      containsUnbounded = true;
    }
    lastGroupUnbounded = false;
  }
  return false;
}

const compiled = new Map<string, RegExp>();

/** Compiles a permission regex, or explains why it cannot be one. */
export function compilePermissionRegex(source: string): RegExp | Failure {
  const hit = compiled.get(source);
  if (hit) return hit;
  if (source.length > LIMITS.maxPermissionRegexLength) {
    return fail(
      "bad_request",
      `permission regex is longer than ${LIMITS.maxPermissionRegexLength} characters`,
    );
  }
  const badEscape = checkEscapes(source);
  if (badEscape) return fail("bad_request", `invalid permission regex '${source}': ${badEscape}`);
  if (hasNestedUnboundedQuantifier(source)) {
    return fail(
      "bad_request",
      `invalid permission regex '${source}': nested unbounded quantifiers can backtrack without end`,
    );
  }
  let regex: RegExp;
  try {
    regex = new RegExp(source === "" ? "^$" : source);
  } catch {
    return fail("bad_request", `invalid permission regex '${source}'`);
  }
  if (compiled.size >= 1000) compiled.clear();
  compiled.set(source, regex);
  return regex;
}

export function checkPermissionRegex(source: string): Failure | null {
  const regex = compilePermissionRegex(source);
  return regex instanceof RegExp ? null : regex;
}

/** Whether `name` is granted by `source`; a regex that cannot compile grants nothing. */
export function permits(source: string, name: string): boolean {
  const regex = compilePermissionRegex(source);
  return regex instanceof RegExp && regex.test(name);
}

function escapeRegex(text: string): string {
  return text.replace(/[\\^$.*+?()[\]{}|/]/g, "\\$&");
}

/**
 * Topic permission regexes may use {username} and {vhost}, as RabbitMQ's do. RabbitMQ inserts
 * the values as they are; we escape them, so a user named "a.*" cannot widen its own grant.
 */
export function expandTopicRegex(source: string, user: string, vhost: string): string {
  return source
    .replaceAll("{username}", escapeRegex(user))
    .replaceAll("{vhost}", escapeRegex(vhost));
}

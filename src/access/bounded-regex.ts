/**
 * Every regex a user supplies (permission and topic-permission regexes, the `name` filter of
 * list calls with `use_regex=true`) is compiled here, by RE2JS, a JavaScript port of RE2:
 * matching takes time linear in the subject, whatever the pattern, so "^(a+)+$" against a long
 * name costs microseconds instead of a backtracking engine's seconds (a JavaScript RegExp cannot
 * be interrupted: one bad pattern would stall the isolate and every request behind it).
 *
 * RE2 reads Perl/PCRE syntax (\A, \z, \Q...\E, \p{L}, (?i) mean what they mean in RabbitMQ's
 * PCRE) and refuses what it cannot run in linear time: backreferences and lookarounds. Those
 * are refused with 400 rather than run on a backtracking engine.
 */
import { RE2JS } from "re2js";
import { type Failure, fail } from "../errors";

export interface BoundedRegex {
  test(text: string): boolean;
}

export interface RegexOptions {
  /** Longest source accepted, in characters. */
  readonly maxLength: number;
  readonly caseInsensitive?: boolean;
  /** How error reasons name the regex: "permission regex", "regular expression". */
  readonly what: string;
}

const CACHE_ENTRIES = 1000;
const cache = new Map<string, BoundedRegex>();

export function compileBoundedRegex(source: string, options: RegexOptions): BoundedRegex | Failure {
  const key = `${options.caseInsensitive ? "i" : "-"}${source}`;
  const hit = cache.get(key);
  if (hit) return hit;
  if (source.length > options.maxLength) {
    return fail("bad_request", `${options.what} is longer than ${options.maxLength} characters`);
  }
  if (!source.isWellFormed()) {
    return fail("bad_request", `${options.what} is not well-formed Unicode`);
  }
  let compiled: RE2JS;
  try {
    compiled = RE2JS.compile(source, options.caseInsensitive ? RE2JS.CASE_INSENSITIVE : 0);
  } catch (error) {
    const detail = error instanceof Error ? `: ${error.message}` : "";
    return fail("bad_request", `invalid ${options.what} '${source}'${detail}`);
  }
  const regex: BoundedRegex = { test: (text) => compiled.test(text) };
  if (cache.size >= CACHE_ENTRIES) cache.clear();
  cache.set(key, regex);
  return regex;
}

export function isRegexFailure(value: BoundedRegex | Failure): value is Failure {
  return !("test" in value);
}

/**
 * Permission regexes as RabbitMQ applies them: `re:run(Name, Regex)` with no implicit anchoring
 * (https://www.rabbitmq.com/docs/access-control#authorisation), so ".*" grants everything, "^a"
 * grants names starting with "a" and "orders" grants every name *containing* "orders"; anchor
 * with "^...$" to grant one name. The empty regex means "nothing" (RabbitMQ rewrites it to "^$";
 * in JavaScript an empty regex would match every name).
 *
 * RabbitMQ's regexes are PCRE; ours run on RE2 (src/access/bounded-regex.ts), which reads the
 * same syntax and matches in linear time, so no regex can stall an authorization check.
 * Backreferences and lookarounds, which RE2 cannot run in linear time, are refused (400).
 */
import { LIMITS } from "../config";
import type { Failure } from "../errors";
import { type BoundedRegex, compileBoundedRegex, isRegexFailure } from "./bounded-regex";

/** Compiles a permission regex, or explains why it cannot be one. */
export function compilePermissionRegex(source: string): BoundedRegex | Failure {
  // RabbitMQ rewrites the empty regex to "^$": nothing but the empty name.
  return compileBoundedRegex(source === "" ? "^$" : source, {
    maxLength: LIMITS.maxPermissionRegexLength,
    what: "permission regex",
  });
}

export function checkPermissionRegex(source: string): Failure | null {
  const regex = compilePermissionRegex(source);
  return isRegexFailure(regex) ? regex : null;
}

/** Whether `name` is granted by `source`; a regex that cannot compile grants nothing. */
export function permits(source: string, name: string): boolean {
  const regex = compilePermissionRegex(source);
  return !isRegexFailure(regex) && regex.test(name);
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

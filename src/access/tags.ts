/**
 * User tags and what they open in the management API, as RabbitMQ's management plugin reads them
 * (https://www.rabbitmq.com/docs/management#permissions): `administrator` manages users, vhosts
 * and permissions and sees everything; `monitoring` sees every vhost read-only; `management` and
 * `policymaker` see only the vhosts they have permissions in. A user with none of them is not a
 * management user. Other tags are kept and shown but grant nothing.
 */
import { LIMITS } from "../config";
import { type Failure, fail } from "../errors";

/** A tag an operation can require (src/access/operations.ts). */
export type RequiredTag = "administrator" | "monitoring" | "policymaker" | "management";

export const MANAGEMENT_TAGS = ["administrator", "monitoring", "policymaker", "management"];

export function isManagementUser(tags: readonly string[]): boolean {
  return tags.some((tag) => MANAGEMENT_TAGS.includes(tag));
}

export function isAdministrator(tags: readonly string[]): boolean {
  return tags.includes("administrator");
}

/** Administrators and monitoring users see every vhost; the others only their own. */
export function seesAllVhosts(tags: readonly string[]): boolean {
  return tags.includes("administrator") || tags.includes("monitoring");
}

/**
 * Whether the tags hold a tag an operation requires: administrator holds monitoring and
 * policymaker, and each of them holds management, as in RabbitMQ.
 */
export function hasTag(tags: readonly string[], required: RequiredTag): boolean {
  switch (required) {
    case "administrator":
      return isAdministrator(tags);
    case "monitoring":
      return seesAllVhosts(tags);
    case "policymaker":
      return tags.includes("administrator") || tags.includes("policymaker");
    case "management":
      return isManagementUser(tags);
  }
}

/** RabbitMQ accepts tags as a comma-separated string or (since 3.9) a list. */
export function parseTags(value: unknown): string[] | Failure {
  const list =
    typeof value === "string"
      ? value.split(",")
      : Array.isArray(value) && value.every((tag) => typeof tag === "string")
        ? (value as string[])
        : null;
  if (list === null) {
    return fail("bad_request", "tags must be a comma-separated string or a list of strings");
  }
  const tags = [...new Set(list.map((tag) => tag.trim()).filter((tag) => tag !== ""))];
  if (tags.length > LIMITS.maxTags || tags.some((tag) => tag.length > LIMITS.maxNameBytes)) {
    return fail("bad_request", `at most ${LIMITS.maxTags} tags of at most 255 characters`);
  }
  return tags;
}

/** Path and query parameters, validated the same way on every route. */
import { BrokerError } from "../errors";
import { checkName, exchangeNameFromPath, type ObjectKind } from "../protocol/names";
import type { AppContext } from "./context";
import { requireVisibleVhost } from "./guards";

function raw(c: AppContext, key: string): string {
  const value = c.req.param(key);
  if (value === undefined) {
    throw new BrokerError("bad_request", `missing path parameter '${key}'`);
  }
  return value;
}

/**
 * The vhost segment, checked for shape, existence (404) and for the caller's right to see it
 * (403). Each operation then checks its own permission (src/api/guards.ts).
 */
export function vhostParam(c: AppContext, key = "vhost"): string {
  const vhost = raw(c, key);
  const invalid = checkName("vhost", vhost);
  if (invalid) {
    throw new BrokerError("not_found", "Not Found");
  }
  requireVisibleVhost(c, vhost);
  return vhost;
}

/** A user segment: same shape rules as other names (at most 255 bytes, no control characters). */
export function userParam(c: AppContext, key = "user"): string {
  return nameParam(c, "user", key);
}

export function nameParam(c: AppContext, kind: ObjectKind, key = "name"): string {
  const name = raw(c, key);
  const invalid = checkName(kind, name);
  if (invalid) {
    throw BrokerError.from(invalid);
  }
  return name;
}

/** An exchange segment: `amq.default` names the default exchange "". */
export function exchangeParam(c: AppContext, key = "name"): string {
  const name = exchangeNameFromPath(raw(c, key));
  if (name === "") {
    return name;
  }
  return nameParam(c, "exchange", key);
}

export function flagQuery(c: AppContext, key: string): boolean {
  const value = c.req.query(key);
  return value === "true" || value === "";
}

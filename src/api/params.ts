/** Path and query parameters, validated the same way on every route. */
import { BrokerError } from "../errors";
import { checkName, exchangeNameFromPath, type ObjectKind } from "../protocol/names";
import { authorizeVhost } from "./auth";
import type { AppContext } from "./context";

function raw(c: AppContext, key: string): string {
  const value = c.req.param(key);
  if (value === undefined) {
    throw new BrokerError("bad_request", `missing path parameter '${key}'`);
  }
  return value;
}

/** The vhost segment, checked for shape and for the caller's access. */
export function vhostParam(c: AppContext, key = "vhost"): string {
  const vhost = raw(c, key);
  const invalid = checkName("vhost", vhost);
  if (invalid) {
    throw new BrokerError("not_found", "Not Found");
  }
  authorizeVhost(c.get("principal"), vhost);
  return vhost;
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

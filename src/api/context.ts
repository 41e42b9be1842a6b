/** Hono's typing for this app: the Worker's bindings and what middleware puts on the context. */
import type { Context } from "hono";
import type { UserAccess } from "../access/user-access";
import type { BrokerConfig } from "../config";
import type { Env } from "../env";
import type { ErrorStyle } from "../errors";
import type { VhostRecord } from "../protocol/registry-records";

export interface AppEnv {
  Bindings: Env;
  Variables: {
    config: BrokerConfig;
    /** The logged-in user and what it may do (cached for up to LIMITS.accessCacheMs). */
    principal: UserAccess;
    /** Every vhost (cached likewise), so that path checks need no call. */
    vhosts: readonly VhostRecord[];
    /** Set by the notification app's routes: errors answer in the article's shape. */
    errorStyle: ErrorStyle;
  };
}

export type AppContext = Context<AppEnv>;

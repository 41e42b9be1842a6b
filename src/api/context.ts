/** Hono's typing for this app: the Worker's bindings and what middleware puts on the context. */
import type { Context } from "hono";
import type { BrokerConfig } from "../config";
import type { Env } from "../env";
import type { ErrorStyle } from "../errors";
import type { Principal } from "./auth";

export interface AppEnv {
  Bindings: Env;
  Variables: {
    config: BrokerConfig;
    principal: Principal;
    /** Set by the notification app's routes: errors answer in the article's shape. */
    errorStyle: ErrorStyle;
  };
}

export type AppContext = Context<AppEnv>;

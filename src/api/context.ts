/** Hono's typing for this app: the Worker's bindings and what middleware puts on the context. */
import type { Context } from "hono";
import type { BrokerConfig } from "../config";
import type { Env } from "../env";
import type { Principal } from "./auth";

export interface AppEnv {
  Bindings: Env;
  Variables: {
    config: BrokerConfig;
    principal: Principal;
  };
}

export type AppContext = Context<AppEnv>;

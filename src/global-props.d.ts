/** Tells workers-types what the main module exports (types `exports` in tests and `ctx.exports`). */
import type { Env as BrokerEnv } from "./env";

declare global {
  namespace Cloudflare {
    interface GlobalProps {
      mainModule: typeof import("./index");
      durableNamespaces:
        | "ExchangeObject"
        | "QueueObject"
        | "VhostObject"
        | "RegistryObject"
        | "InboxObject"
        | "StreamObject"
        | "TopicObject"
        | "GroupObject";
    }
    interface Env extends BrokerEnv {}
  }
}

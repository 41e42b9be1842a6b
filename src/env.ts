/** The Worker's bindings, as declared in wrangler.jsonc. */
import type { BrokerVars } from "./config";
import type { ExchangeObject } from "./objects/exchange-object";
import type { GroupObject } from "./objects/group-object";
import type { InboxObject } from "./objects/inbox-object";
import type { QueueObject } from "./objects/queue-object";
import type { RegistryObject } from "./objects/registry-object";
import type { StreamObject } from "./objects/stream-object";
import type { TopicObject } from "./objects/topic-object";
import type { VhostObject } from "./objects/vhost-object";

export interface Env extends BrokerVars {
  EXCHANGES: DurableObjectNamespace<ExchangeObject>;
  QUEUES: DurableObjectNamespace<QueueObject>;
  VHOSTS: DurableObjectNamespace<VhostObject>;
  /** One global instance: users, vhosts, permissions (management plane only). */
  REGISTRY: DurableObjectNamespace<RegistryObject>;
  /** Per-user notification inboxes (docs/notifications.md). */
  INBOXES: DurableObjectNamespace<InboxObject>;
  /** Streams and topic partitions: one append-only log each (docs/streams.md). */
  STREAMS: DurableObjectNamespace<StreamObject>;
  /** Partitioned topics' metadata, and consumer groups (coordinator and committed offsets). */
  TOPICS: DurableObjectNamespace<TopicObject>;
  GROUPS: DurableObjectNamespace<GroupObject>;
  /**
   * The management UI's static files (dist/ui, built from ui/): wrangler.jsonc "assets"; also
   * the API reference page's Swagger UI files (dist/ui/api-docs, src/api/openapi.ts).
   */
  ASSETS: Fetcher;
}

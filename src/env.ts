/** The Worker's bindings, as declared in wrangler.jsonc. */
import type { ExchangeObject } from "./objects/exchange-object";
import type { GroupObject } from "./objects/group-object";
import type { InboxObject } from "./objects/inbox-object";
import type { QueueObject } from "./objects/queue-object";
import type { RegistryObject } from "./objects/registry-object";
import type { StreamObject } from "./objects/stream-object";
import type { TopicObject } from "./objects/topic-object";
import type { VhostObject } from "./objects/vhost-object";

export interface Env {
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
  /**
   * The bootstrap administrator, seeded into the registry once. The password is a secret in a
   * deploy; unset means nobody can log in.
   */
  BROKER_ADMIN_USER?: string;
  BROKER_ADMIN_PASSWORD?: string;
  MAX_MESSAGE_BYTES?: string;
  /** "true" only in `npm start` (a --var): the article's open local flow. Never in a deploy. */
  LOCAL_DEV?: string;
  /** A secret in a deploy: the HMAC key of per-user inbox tokens. */
  NOTIFICATION_TOKEN_SECRET?: string;
  INBOX_MAX_NOTIFICATIONS?: string;
  INBOX_MAX_AGE_DAYS?: string;
  /** "open" lets anyone scrape /metrics; anything else needs credentials (src/config.ts). */
  METRICS_AUTH?: string;
  /** A secret: a bearer token Prometheus may scrape /metrics with (16 characters or more). */
  METRICS_TOKEN?: string;
}

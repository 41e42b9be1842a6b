/**
 * Every limit and default in one typed place. Values a deploy may change come from the Worker's
 * environment (wrangler `vars`); the rest are constants chosen to stay inside Durable Object
 * limits (2 MB per row, 100 bound parameters, 100 KB per statement).
 */

export const LIMITS = {
  /** RabbitMQ's shortstr limit for exchange, queue and vhost names. */
  maxNameBytes: 255,
  /** Routing keys are shortstrs too. */
  maxRoutingKeyBytes: 255,
  /** Default maximum message body; MAX_MESSAGE_BYTES overrides it (must stay under 2 MB per row). */
  defaultMaxMessageBytes: 1024 * 1024,
  hardMaxMessageBytes: 1900 * 1024,
  /** Messages one publish-batch request may carry. */
  maxBatchMessages: 1000,
  /** Largest JSON body a publish-batch may send (a batch of large messages in base64). */
  maxRequestBytes: 32 * 1024 * 1024,
  /** Largest JSON body of a management call (declare, bind, get): far below a 2 MB row. */
  maxManagementBodyBytes: 1024 * 1024,
  /** Largest message properties (headers included) as JSON; RabbitMQ bounds them by frame_max. */
  maxPropertiesBytes: 64 * 1024,
  /** Deepest nesting of a field table (headers, arguments): AMQP tables nest, but not without end. */
  maxTableDepth: 32,
  /** Most payload bytes one get answers (at least one message), within RPC and response limits. */
  maxGetBytes: 16 * 1024 * 1024,
  /** Most bytes of messages one pull answers, long polls included (at least one message). */
  maxPullBytes: 16 * 1024 * 1024,
  /**
   * Most bytes of messages one dispatch pass sends to a queue's WebSocket consumers (at least
   * one message); the rest follows in the next pass, a turn later. A deliver frame carrying
   * several messages stays within it too.
   */
  maxDeliverBytes: 4 * 1024 * 1024,
  /** Messages one get may return. */
  maxGetCount: 1000,
  /** Object calls one list or overview request keeps in flight (src/runtime/map-limited.ts). */
  fanOutConcurrency: 100,
  /**
   * Declarations a definitions import keeps in flight: each new queue or exchange starts its
   * own object (a SQLite file and its schema), which is most of an import's time.
   */
  importConcurrency: 16,
  /**
   * Most objects one request asks (a list sorted by a count, the overview). Asking 10,000 queue
   * objects from one request failed locally (bench/ui-queues.mjs); 1,500 took 13 s with every
   * object starting cold. Beyond this, a list refuses (queue lists and the overview read the
   * vhosts' snapshots of their queues' reports instead: src/queue/queue-report.ts).
   */
  maxFanOut: 2000,
  /** Pagination, as RabbitMQ's management API. */
  defaultPageSize: 100,
  maxPageSize: 500,
  /** Consumers (WebSocket): RabbitMQ's consumer_timeout is 30 minutes; ours is per delivery. */
  defaultAckTimeoutMs: 30 * 60 * 1000,
  minAckTimeoutMs: 1000,
  maxAckTimeoutMs: 24 * 60 * 60 * 1000,
  defaultPrefetch: 100,
  maxPrefetch: 65535,
  /** Consumer frames are small (acks, consume); anything larger is refused with an error frame. */
  maxConsumerFrameBytes: 64 * 1024,
  /** Pull consumers: visibility timeout and long-poll wait (Cloudflare Queues' pull API cannot wait). */
  defaultVisibilityMs: 30 * 1000,
  maxVisibilityMs: 12 * 60 * 60 * 1000,
  maxPullWaitMs: 20 * 1000,
  maxPullCount: 1000,
  maxNackDelayMs: 12 * 60 * 60 * 1000,
  /** Delivery tags one ack/nack/reject frame may list (well inside maxConsumerFrameBytes). */
  maxTagsPerFrame: 5000,
  /**
   * Payload bytes one batched deliver frame carries before the round starts another frame (at
   * least one delivery per frame), so a consumer with a large prefetch never gets one huge frame.
   */
  maxDeliverFrameBytes: 1024 * 1024,
  /** Largest publish frame carrying a list of messages (workerd accepts up to 32 MiB). */
  maxPublishListFrameBytes: 16 * 1024 * 1024,
  /** Messages fetched per step while dispatching to consumers. */
  dispatchChunk: 100,
  /**
   * Expired messages deleted per statement and per sweep: 100,000 messages expiring at once are
   * removed over several alarms, each well within a request's CPU budget.
   */
  expiryChunk: 5000,
  /** Messages a queue publishes to its dead-letter exchange per call. */
  deadLetterChunk: 500,
  /**
   * A delayed exchange releases what is due in batches of up to this many messages (one call per
   * destination per batch) and this many body bytes, at most `delayedReleasePasses` batches per
   * alarm before the alarm comes back at once; a failed batch is retried after
   * `delayedRetryMs`, none of it deleted meanwhile.
   */
  delayedReleaseChunk: 500,
  delayedReleaseBytes: 8 * 1024 * 1024,
  delayedReleasePasses: 20,
  delayedRetryMs: 1000,
  /** Longest permission or topic-permission regex. */
  maxPermissionRegexLength: 4096,
  /** Longest `name` filter regex of a list call (`use_regex=true`). */
  maxFilterRegexLength: 1024,
  /** Most tags one user or vhost may carry. */
  maxTags: 32,
  /** Failed logins per user name before throttling starts (src/access/login-throttle.ts). */
  loginFailuresAllowed: 5,
  /** The first block after too many failures; it doubles with each further failure. */
  loginBlockBaseMs: 1000,
  loginBlockMaxMs: 5 * 60 * 1000,
  /**
   * How long an isolate trusts what it cached about a user (verified password, tags,
   * permissions) and the vhost list: the bound on how long a deleted user, a changed password or
   * a revoked permission keeps working on other isolates. The isolate that made the change
   * forgets at once.
   */
  accessCacheMs: 5000,
  /**
   * How long an isolate remembers that an Authorization header verified (its PBKDF2 result),
   * valid only while the user's current password hash, re-read every accessCacheMs, is unchanged.
   */
  verifiedHeaderMs: 10 * 60_000,
  /** A producer connection refreshes its place in the vhost's connection count this often. */
  producerHeartbeatMs: 60_000,
  /** A producer connection not refreshed for this long is no longer counted. */
  producerSilenceMs: 3 * 60_000,
  /** A WebSocket connection ticket's life; it is single-use within it. */
  ticketTtlMs: 30_000,
} as const;

/** The notification app (docs/notifications.md): inboxes, sends, tokens. */
export const NOTIFICATION_LIMITS = {
  /** The exchange /send publishes to; each user's inbox is bound to it by the user's id. */
  exchange: "notifications",
  /** Largest `message` a send may carry, in UTF-8 bytes (413 above it). */
  maxMessageBytes: 4096,
  /** Largest `data` object a send may carry, as JSON. */
  maxDataBytes: 16 * 1024,
  /** Recipients one fan-out send may name. */
  maxRecipients: 1000,
  /** Retention per inbox, unless INBOX_MAX_NOTIFICATIONS / INBOX_MAX_AGE_DAYS override it. */
  defaultInboxMaxNotifications: 1000,
  defaultInboxMaxAgeDays: 90,
  /** Inbox page sizes. */
  defaultPageLimit: 50,
  maxPageLimit: 200,
  /** Ids one mark call may name. */
  maxMarkIds: 1000,
  /** Live sockets per inbox (the platform allows 32,768 hibernatable sockets per object). */
  maxSocketsPerInbox: 10_000,
  /** Signed per-user tokens: default and longest lifetime. */
  defaultTokenSeconds: 24 * 60 * 60,
  maxTokenSeconds: 30 * 24 * 60 * 60,
} as const;

export const PRODUCT = {
  name: "workers-broker",
  version: "0.1.0",
  /** The management API version we follow (../shared/reference/rabbitmq-http-api.md). */
  managementVersion: "3.10.8",
} as const;

export interface BrokerConfig {
  readonly maxMessageBytes: number;
  readonly adminUser: string;
  /** Undefined when no password is configured: then nobody can log in (never an open broker). */
  readonly adminPassword: string | undefined;
  /**
   * Local development (`npm start` passes LOCAL_DEV=true; never set in a deploy): the article's
   * unauthenticated notification flow and its four seeded users.
   */
  readonly localDev: boolean;
  /** HMAC key for per-user inbox tokens; undefined means no token is minted or accepted. */
  readonly notificationTokenSecret: string | undefined;
  readonly inboxMaxNotifications: number;
  readonly inboxMaxAgeDays: number;
  /**
   * Who may scrape /metrics: "credentials" (default: a monitoring or administrator user's Basic
   * login, or METRICS_TOKEN as a bearer token) or "open" (anyone who can reach the Worker).
   */
  readonly metricsAuth: "credentials" | "open";
  /** A secret bearer token for Prometheus' `authorization` setting; undefined: none accepted. */
  readonly metricsToken: string | undefined;
}

function positiveIntVar(text: string | undefined, fallback: number, max: number): number {
  const value = Number.parseInt(text ?? "", 10);
  return Number.isFinite(value) && value > 0 ? Math.min(value, max) : fallback;
}

/**
 * The Worker's string variables that configure the broker (wrangler `vars` and secrets); the
 * Env in src/env.ts extends this, so configuration does not depend on the Durable Object classes.
 */
export interface BrokerVars {
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
  /** "open" lets anyone scrape /metrics; anything else needs credentials. */
  METRICS_AUTH?: string;
  /** A secret: a bearer token Prometheus may scrape /metrics with (16 characters or more). */
  METRICS_TOKEN?: string;
}

export function loadConfig(env: BrokerVars): BrokerConfig {
  const configured = Number.parseInt(env.MAX_MESSAGE_BYTES ?? "", 10);
  const maxMessageBytes =
    Number.isFinite(configured) && configured > 0
      ? Math.min(configured, LIMITS.hardMaxMessageBytes)
      : LIMITS.defaultMaxMessageBytes;
  const password = env.BROKER_ADMIN_PASSWORD;
  return {
    maxMessageBytes,
    adminUser: env.BROKER_ADMIN_USER || "admin",
    adminPassword: password && password.length > 0 ? password : undefined,
    localDev: env.LOCAL_DEV === "true",
    notificationTokenSecret:
      env.NOTIFICATION_TOKEN_SECRET && env.NOTIFICATION_TOKEN_SECRET.length > 0
        ? env.NOTIFICATION_TOKEN_SECRET
        : undefined,
    inboxMaxNotifications: positiveIntVar(
      env.INBOX_MAX_NOTIFICATIONS,
      NOTIFICATION_LIMITS.defaultInboxMaxNotifications,
      100_000,
    ),
    inboxMaxAgeDays: positiveIntVar(
      env.INBOX_MAX_AGE_DAYS,
      NOTIFICATION_LIMITS.defaultInboxMaxAgeDays,
      3650,
    ),
    metricsAuth: env.METRICS_AUTH === "open" ? "open" : "credentials",
    metricsToken:
      env.METRICS_TOKEN && env.METRICS_TOKEN.length >= 16 ? env.METRICS_TOKEN : undefined,
  };
}

/** Streams and partitioned topics (docs/streams.md). */
export const STREAM_LIMITS = {
  /** Largest chunk row: a produce batch is split below the 2 MB row limit. */
  maxChunkBytes: 1536 * 1024,
  /** Messages one fetch or one WebSocket frame may carry. */
  maxFetchCount: 10_000,
  defaultFetchCount: 1000,
  /** Bytes one fetch answers at most (at least one message). */
  maxFetchBytes: 16 * 1024 * 1024,
  defaultFetchBytes: 4 * 1024 * 1024,
  /** Long-poll wait of a fetch, as a pull consumer's. */
  maxFetchWaitMs: 20_000,
  /** Messages one produce request may carry. */
  maxProduceMessages: 10_000,
  maxPartitions: 256,
  /** How soon after an append the retention alarm runs (whole chunks, never the newest). */
  retentionCheckMs: 1000,
  /** WebSocket consumers: credit and messages per deliver frame. */
  maxCredit: 100_000,
  maxFrameMessages: 1000,
  maxStreamFrameBytes: 64 * 1024,
  /** Consumer groups (KIP-848): heartbeat interval handed to members, session timeout bounds. */
  heartbeatIntervalMs: 1000,
  defaultSessionTimeoutMs: 45_000,
  minSessionTimeoutMs: 1000,
  maxSessionTimeoutMs: 300_000,
  maxGroupMembers: 1000,
  /** Auto-commit defaults of a WebSocket group member (Kafka: auto.commit.interval.ms 5000). */
  defaultAutoCommitMs: 5000,
} as const;

/** The `notifications` topic POST /send appends to, keyed by recipient (docs/streams.md). */
export const NOTIFICATION_TOPIC = {
  name: "notifications",
  /** Created with this many partitions on the first send when it does not exist yet. */
  partitions: 4,
  /** Kafka's default retention (log.retention.hours = 168). */
  maxAge: "7D",
} as const;

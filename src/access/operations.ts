/**
 * The permission table: every operation the broker offers, over HTTP or as a WebSocket frame,
 * with who may perform it. It is the one place these rules are written; the HTTP routes look
 * their operation up by method and path (ROUTE_OPERATIONS, consulted by the management-tag gate
 * and by `authorize` in src/api/guards.ts) and the sockets by frame type (FRAME_OPERATIONS).
 * test/access/operations.test.ts fails for a registered route or an accepted frame type without
 * an entry.
 *
 * The rules follow RabbitMQ's access-control table
 * (https://www.rabbitmq.com/docs/access-control#authorisation) and its management plugin's tags
 * (https://www.rabbitmq.com/docs/management#permissions):
 *
 *   declare / delete an exchange or queue   configure on it
 *   bind / unbind                           write on the destination, read on the source exchange
 *   publish                                 write on the exchange ("amq.default" for "")
 *   get, consume, purge                     read on the queue
 *
 * plus topic permissions (#topic-authorisation): on a topic exchange, a publish needs its routing
 * key to match `write` and a binding its key to match `read`. Streams and partitioned topics are
 * checked as RabbitMQ checks stream queues and super streams: reading needs read on the queue
 * (the topic's name), producing write on the exchange of that name, declaring configure.
 *
 * `client` operations are what an AMQP 0-9-1 or Kafka client does over its connection; HTTP is
 * this broker's client protocol as well as its management API, so they need only the user's
 * vhost permissions, as over AMQP in RabbitMQ. Every other /api operation is the management API
 * and needs a management tag (any of MANAGEMENT_TAGS): a user without one is answered
 * `401 Not management user`, as RabbitMQ answers.
 */
import type { RequiredTag } from "./tags";
import type { PermissionKind, ResourceKind } from "./user-access";

/** How the caller of an operation logs in. */
export type Login =
  /** Nobody: liveness and the UI's page. */
  | "none"
  /** HTTP Basic on /api, with the management-tag gate in front unless `client`. */
  | "basic"
  /** A WebSocket upgrade: HTTP Basic or a connection ticket, before the gate. */
  | "upgrade"
  /** A frame on an open WebSocket: the socket's user, checked again against the registry. */
  | "frame"
  /** The notification app (src/api/notification-access.ts): a user token, or HTTP Basic. */
  | "notification"
  /** Prometheus (METRICS_AUTH): open, a bearer token, or HTTP Basic. */
  | "metrics";

/** What an operation is about (its grants say which RabbitMQ resource is checked). */
export type Resource =
  | "broker"
  | "node"
  | "docs"
  | "metrics"
  | "user"
  | "vhost"
  | "limit"
  | "permission"
  | "parameter"
  | "definitions"
  | "connection"
  | "exchange"
  | "queue"
  | "binding"
  | "stream"
  | "topic"
  | "group"
  | "inbox"
  | "notification"
  | "notification-user";

/**
 * Which name a permission is checked on: the operation's own (`name`), or another one the call
 * carries (a binding's ends, a declaration's alternate or dead-letter exchange, a topic a group
 * reads, the exchange a publish or a send goes to).
 */
export type Target = "name" | "source" | "destination" | "alternate" | "deadLetter" | "topic";

export interface Grant {
  readonly permission: PermissionKind;
  /** The RabbitMQ resource kind the permission is checked on (refusals name it). */
  readonly on: ResourceKind;
  readonly target: Target;
  /** Checked only when the call carries this target (a declaration naming a DLX or an AE). */
  readonly when?: Target;
}

export interface Operation {
  readonly resource: Resource;
  readonly login: Login;
  /** Allowed without a management tag (see above). Only meaningful for `basic` logins. */
  readonly client: boolean;
  /** A tag needed beyond the gate. */
  readonly tag?: RequiredTag;
  /** The tag is not needed for the caller's own object (a connection it opened). */
  readonly ownerExempt?: boolean;
  /** A permission entry in the vhost is needed (what opening an AMQP connection needs). */
  readonly vhostAccess?: boolean;
  /** Resource permissions, checked in this order after the tag and the vhost. */
  readonly grants?: readonly Grant[];
  /** A topic permission on the routing key, when the exchange is a topic exchange. */
  readonly topic?: "read" | "write";
  /**
   * Path parameters a client call must match in shape; a call that does not is a management
   * call (the tag gate checks the raw, still percent-encoded segment).
   */
  readonly clientParams?: Readonly<Record<string, RegExp>>;
}

function grant(permission: PermissionKind) {
  return (on: ResourceKind, target: Target = "name", when?: Target): Grant =>
    when === undefined ? { permission, on, target } : { permission, on, target, when };
}
const read = grant("read");
const write = grant("write");
const configure = grant("configure");

/** A management-API read: any management tag; lists show the vhosts the caller sees. */
const look = (resource: Resource): Operation => ({ resource, login: "basic", client: false });
/** Only administrators: users, vhosts, permissions, definitions, limits, parameters. */
const administer = (resource: Resource): Operation => ({
  resource,
  login: "basic",
  client: false,
  tag: "administrator",
});

export const OPERATIONS = {
  // Without credentials.
  "broker.health": { resource: "broker", login: "none", client: true },
  "broker.ui": { resource: "broker", login: "none", client: true },

  // The management API: reads for any management user, changes for administrators.
  "broker.overview": look("broker"),
  "broker.docs": look("docs"),
  "node.read": look("node"),
  "user.whoami": { resource: "user", login: "basic", client: true },
  "user.read": administer("user"),
  "user.manage": administer("user"),
  "vhost.read": look("vhost"),
  "vhost.manage": administer("vhost"),
  /** The aliveness test: what opening a connection to the vhost needs. */
  "vhost.connect": { resource: "vhost", login: "basic", client: true, vhostAccess: true },
  /** A WebSocket connection ticket for the vhost (browsers cannot send Basic on an upgrade). */
  "vhost.ticket": { resource: "vhost", login: "basic", client: true, vhostAccess: true },
  "limit.read": look("limit"),
  "limit.manage": administer("limit"),
  "permission.read": administer("permission"),
  "permission.manage": administer("permission"),
  // RabbitMQ opens runtime parameters to policymakers; here the only component is vhost-limits,
  // which RabbitMQ reserves to administrators.
  "parameter.read": look("parameter"),
  "parameter.manage": administer("parameter"),
  "definitions.export": administer("definitions"),
  "definitions.import": administer("definitions"),
  "connection.read": look("connection"),
  "connection.close": {
    resource: "connection",
    login: "basic",
    client: false,
    tag: "administrator",
    ownerExempt: true,
  },
  "metrics.scrape": { resource: "metrics", login: "metrics", client: true, tag: "monitoring" },

  // Exchanges and queues: what AMQP 0-9-1 does over a channel.
  "exchange.list": look("exchange"),
  /** One exchange's record: what a passive declare tells a client. */
  "exchange.describe": { resource: "exchange", login: "basic", client: true },
  "exchange.declare": {
    resource: "exchange",
    login: "basic",
    client: true,
    // Declaring with an alternate exchange needs write on it and read on the declared one.
    grants: [
      configure("exchange"),
      write("exchange", "alternate", "alternate"),
      read("exchange", "name", "alternate"),
    ],
  },
  "exchange.delete": {
    resource: "exchange",
    login: "basic",
    client: true,
    grants: [configure("exchange")],
  },
  "exchange.publish": {
    resource: "exchange",
    login: "basic",
    client: true,
    grants: [write("exchange")],
    topic: "write",
  },
  "queue.list": look("queue"),
  /** One queue's record with its counts: what a passive declare tells a client. */
  "queue.describe": { resource: "queue", login: "basic", client: true },
  "queue.declare": {
    resource: "queue",
    login: "basic",
    client: true,
    // Declaring with a dead-letter exchange needs write on it and read on the queue.
    grants: [
      configure("queue"),
      write("exchange", "deadLetter", "deadLetter"),
      read("queue", "name", "deadLetter"),
    ],
  },
  "queue.delete": { resource: "queue", login: "basic", client: true, grants: [configure("queue")] },
  "queue.purge": { resource: "queue", login: "basic", client: true, grants: [read("queue")] },
  "queue.get": { resource: "queue", login: "basic", client: true, grants: [read("queue")] },
  "queue.pull": { resource: "queue", login: "basic", client: true, grants: [read("queue")] },
  "queue.settle": { resource: "queue", login: "basic", client: true, grants: [read("queue")] },
  /** A consumer connection; the queue object checks read again before each frame. */
  "queue.consume": {
    resource: "queue",
    login: "upgrade",
    client: true,
    vhostAccess: true,
    grants: [read("queue")],
  },
  /** A producer connection; each publish frame is checked as exchange.publish. */
  "exchange.produce": { resource: "exchange", login: "upgrade", client: true, vhostAccess: true },

  // Bindings: write on the destination, read on the source, topic read on the key.
  "binding.list": look("binding"),
  /** The bindings between two objects: what a client needs for an unbind. */
  "binding.between": { resource: "binding", login: "basic", client: true },
  "binding.describe": look("binding"),
  "binding.queue": {
    resource: "binding",
    login: "basic",
    client: true,
    grants: [write("queue", "destination"), read("exchange", "source")],
    topic: "read",
  },
  "binding.exchange": {
    resource: "binding",
    login: "basic",
    client: true,
    grants: [write("exchange", "destination"), read("exchange", "source")],
    topic: "read",
  },
  /** An inbox is no RabbitMQ resource: pointing notifications at one is the administrator's call. */
  "binding.inbox": {
    resource: "binding",
    login: "basic",
    client: false,
    tag: "administrator",
    grants: [read("exchange", "source")],
    topic: "read",
  },
  "binding.inbox-between": look("binding"),

  // Streams, partitioned topics and consumer groups (docs/streams.md): what a Kafka client does.
  "stream.describe": { resource: "stream", login: "basic", client: false, grants: [read("queue")] },
  "stream.fetch": { resource: "stream", login: "basic", client: true, grants: [read("queue")] },
  /** A stream reader connection; the pump checks read again before each read. */
  "stream.consume": {
    resource: "stream",
    login: "upgrade",
    client: true,
    vhostAccess: true,
    grants: [read("queue")],
  },
  /** Lists the topics the caller may read (topic.describe's grant). */
  "topic.list": look("topic"),
  "topic.describe": { resource: "topic", login: "basic", client: false, grants: [read("queue")] },
  "topic.declare": {
    resource: "topic",
    login: "basic",
    client: true,
    grants: [configure("queue")],
  },
  "topic.delete": { resource: "topic", login: "basic", client: true, grants: [configure("queue")] },
  "topic.produce": { resource: "topic", login: "basic", client: true, grants: [write("exchange")] },
  /** A producer connection to a topic; each produce frame is checked again. */
  "topic.producer": {
    resource: "topic",
    login: "upgrade",
    client: true,
    vhostAccess: true,
    grants: [write("exchange")],
  },
  "topic.fetch": {
    resource: "topic",
    login: "basic",
    client: true,
    grants: [read("queue")],
    clientParams: { partition: /^\d+$/ },
  },
  "group.heartbeat": {
    resource: "group",
    login: "basic",
    client: true,
    grants: [read("queue", "topic")],
  },
  "group.commit": {
    resource: "group",
    login: "basic",
    client: true,
    grants: [read("queue", "topic")],
  },
  "group.describe": {
    resource: "group",
    login: "basic",
    client: false,
    grants: [read("queue", "topic")],
  },
  "group.reset": {
    resource: "group",
    login: "basic",
    client: false,
    grants: [read("queue", "topic")],
  },
  /** A group member connection; join and commit frames name the topics checked. */
  "group.consume": { resource: "group", login: "upgrade", client: true, vhostAccess: true },

  // Frames on open sockets: checked against the user's current access (LIMITS.accessCacheMs).
  "frame.consume": { resource: "queue", login: "frame", client: true, grants: [read("queue")] },
  "frame.publish": {
    resource: "exchange",
    login: "frame",
    client: true,
    grants: [write("exchange")],
    topic: "write",
  },
  "frame.stream-read": {
    resource: "stream",
    login: "frame",
    client: true,
    grants: [read("queue")],
  },
  "frame.group-read": {
    resource: "group",
    login: "frame",
    client: true,
    grants: [read("queue", "topic")],
  },
  "frame.produce": { resource: "topic", login: "frame", client: true, grants: [write("exchange")] },
  /** Inbox frames act on the socket's own inbox, which its upgrade (inbox.read) was allowed. */
  "frame.inbox": { resource: "inbox", login: "frame", client: true },

  // The notification app (docs/notifications.md, src/api/notification-access.ts): a user's own
  // token reads and marks its inbox; with HTTP Basic, sending needs write on the `notifications`
  // exchange and reading an inbox the administrator tag.
  "notification.send": {
    resource: "notification",
    login: "notification",
    client: true,
    grants: [write("exchange")],
  },
  "inbox.read": { resource: "inbox", login: "notification", client: true, tag: "administrator" },
  "inbox.mark": { resource: "inbox", login: "notification", client: true, tag: "administrator" },
  "notification-user.read": look("notification-user"),
  "notification-user.manage": administer("notification-user"),
  "notification-user.token": administer("notification-user"),
} as const satisfies Record<string, Operation>;

export type OperationName = keyof typeof OPERATIONS;

export function operation(name: OperationName): Operation {
  return OPERATIONS[name];
}

/**
 * Each HTTP route's operation, by method and path as the route is registered (src/api/routes.ts);
 * HEAD is answered as GET.
 */
export const ROUTE_OPERATIONS: Readonly<Record<string, OperationName>> = {
  "GET /health": "broker.health",
  "GET /": "broker.ui",
  "GET /metrics": "metrics.scrape",

  "POST /send": "notification.send",
  "GET /notifications/:userID": "inbox.read",
  "GET /notifications/:userID/inbox": "inbox.read",
  "GET /notifications/:userID/counts": "inbox.read",
  "GET /notifications/:userID/page": "inbox.read",
  "GET /notifications/:userID/live": "inbox.read",
  "POST /notifications/:userID/mark": "inbox.mark",

  "GET /api/queues/:vhost/:name/consume": "queue.consume",
  "GET /api/publish/:vhost": "exchange.produce",
  "GET /api/streams/:vhost/:name/consume": "stream.consume",
  "GET /api/groups/:vhost/:name/consume": "group.consume",
  "GET /api/topics/:vhost/:name/producer": "topic.producer",

  "GET /api/overview": "broker.overview",
  "GET /api/openapi.json": "broker.docs",
  "GET /api/docs": "broker.docs",
  "GET /api/docs/:file": "broker.docs",
  "GET /api/whoami": "user.whoami",
  "GET /api/users": "user.read",
  "GET /api/users/:user": "user.read",
  "PUT /api/users/:user": "user.manage",
  "DELETE /api/users/:user": "user.manage",
  "GET /api/vhosts": "vhost.read",
  "GET /api/vhosts/:vhost": "vhost.read",
  "PUT /api/vhosts/:vhost": "vhost.manage",
  "DELETE /api/vhosts/:vhost": "vhost.manage",
  "GET /api/aliveness-test/:vhost": "vhost.connect",
  "POST /api/tickets": "vhost.ticket",
  "GET /api/vhost-limits": "limit.read",
  "GET /api/vhost-limits/:vhost": "limit.read",
  "PUT /api/vhost-limits/:vhost/:limit": "limit.manage",
  "DELETE /api/vhost-limits/:vhost/:limit": "limit.manage",
  "GET /api/permissions": "permission.read",
  "GET /api/topic-permissions": "permission.read",
  "GET /api/vhosts/:vhost/permissions": "permission.read",
  "GET /api/vhosts/:vhost/topic-permissions": "permission.read",
  "GET /api/users/:user/permissions": "permission.read",
  "GET /api/users/:user/topic-permissions": "permission.read",
  "GET /api/permissions/:vhost/:user": "permission.read",
  "PUT /api/permissions/:vhost/:user": "permission.manage",
  "DELETE /api/permissions/:vhost/:user": "permission.manage",
  "GET /api/topic-permissions/:vhost/:user": "permission.read",
  "PUT /api/topic-permissions/:vhost/:user": "permission.manage",
  "DELETE /api/topic-permissions/:vhost/:user": "permission.manage",
  "GET /api/definitions": "definitions.export",
  "POST /api/definitions": "definitions.import",
  "GET /api/definitions/:vhost": "definitions.export",
  "POST /api/definitions/:vhost": "definitions.import",

  "GET /api/exchanges": "exchange.list",
  "GET /api/exchanges/:vhost": "exchange.list",
  "GET /api/exchanges/:vhost/:name": "exchange.describe",
  "PUT /api/exchanges/:vhost/:name": "exchange.declare",
  "DELETE /api/exchanges/:vhost/:name": "exchange.delete",
  "POST /api/exchanges/:vhost/:name/publish": "exchange.publish",
  "POST /api/exchanges/:vhost/:name/publish-batch": "exchange.publish",
  "GET /api/exchanges/:vhost/:name/bindings/source": "binding.list",
  "GET /api/exchanges/:vhost/:name/bindings/destination": "binding.list",
  "GET /api/queues": "queue.list",
  "GET /api/queues/:vhost": "queue.list",
  "GET /api/queues/:vhost/:name": "queue.describe",
  "PUT /api/queues/:vhost/:name": "queue.declare",
  "DELETE /api/queues/:vhost/:name": "queue.delete",
  "DELETE /api/queues/:vhost/:name/contents": "queue.purge",
  "POST /api/queues/:vhost/:name/get": "queue.get",
  "POST /api/queues/:vhost/:name/pull": "queue.pull",
  "POST /api/queues/:vhost/:name/ack": "queue.settle",
  "GET /api/queues/:vhost/:name/bindings": "binding.list",

  "GET /api/bindings": "binding.list",
  "GET /api/bindings/:vhost": "binding.list",
  "GET /api/bindings/:vhost/e/:source/q/:destination": "binding.between",
  "POST /api/bindings/:vhost/e/:source/q/:destination": "binding.queue",
  "GET /api/bindings/:vhost/e/:source/q/:destination/:props": "binding.describe",
  "DELETE /api/bindings/:vhost/e/:source/q/:destination/:props": "binding.queue",
  "GET /api/bindings/:vhost/e/:source/e/:destination": "binding.between",
  "POST /api/bindings/:vhost/e/:source/e/:destination": "binding.exchange",
  "GET /api/bindings/:vhost/e/:source/e/:destination/:props": "binding.describe",
  "DELETE /api/bindings/:vhost/e/:source/e/:destination/:props": "binding.exchange",
  "GET /api/bindings/:vhost/e/:source/i/:destination": "binding.inbox-between",
  "POST /api/bindings/:vhost/e/:source/i/:destination": "binding.inbox",
  "GET /api/bindings/:vhost/e/:source/i/:destination/:props": "binding.describe",
  "DELETE /api/bindings/:vhost/e/:source/i/:destination/:props": "binding.inbox",

  "GET /api/notification-users": "notification-user.read",
  "GET /api/notification-users/:vhost": "notification-user.read",
  "POST /api/notification-users/:vhost": "notification-user.manage",
  "GET /api/notification-users/:vhost/:id": "notification-user.read",
  "PUT /api/notification-users/:vhost/:id": "notification-user.manage",
  "DELETE /api/notification-users/:vhost/:id": "notification-user.manage",
  "POST /api/notification-users/:vhost/:id/token": "notification-user.token",

  "GET /api/streams/:vhost/:name": "stream.describe",
  "POST /api/streams/:vhost/:name/fetch": "stream.fetch",
  "GET /api/topics/:vhost": "topic.list",
  "GET /api/topics/:vhost/:name": "topic.describe",
  "PUT /api/topics/:vhost/:name": "topic.declare",
  "DELETE /api/topics/:vhost/:name": "topic.delete",
  "POST /api/topics/:vhost/:name/produce": "topic.produce",
  "POST /api/topics/:vhost/:name/partitions/:partition/fetch": "topic.fetch",
  "POST /api/groups/:vhost/:name/heartbeat": "group.heartbeat",
  "POST /api/groups/:vhost/:name/commit": "group.commit",
  "GET /api/groups/:vhost/:name": "group.describe",
  "GET /api/groups/:vhost/:name/offsets": "group.describe",
  "POST /api/groups/:vhost/:name/offsets/reset": "group.reset",

  "GET /api/connections": "connection.read",
  "GET /api/vhosts/:vhost/connections": "connection.read",
  "GET /api/connections/:name": "connection.read",
  "DELETE /api/connections/:name": "connection.close",
  "GET /api/connections/:name/channels": "connection.read",
  "GET /api/channels": "connection.read",
  "GET /api/vhosts/:vhost/channels": "connection.read",
  "GET /api/channels/:name": "connection.read",
  "GET /api/consumers": "connection.read",
  "GET /api/consumers/:vhost": "connection.read",

  "GET /api/nodes": "node.read",
  "GET /api/nodes/:node": "node.read",
  "GET /api/extensions": "node.read",
  "GET /api/cluster-name": "node.read",
  "GET /api/feature-flags": "node.read",
  "GET /api/global-parameters": "parameter.read",
  "GET /api/health/checks/alarms": "node.read",
  "GET /api/health/checks/local-alarms": "node.read",
  "GET /api/parameters": "parameter.read",
  "GET /api/parameters/:component": "parameter.read",
  "GET /api/parameters/:component/:vhost": "parameter.read",
  "GET /api/parameters/:component/:vhost/:name": "parameter.read",
  "PUT /api/parameters/:component/:vhost/:name": "parameter.manage",
  "DELETE /api/parameters/:component/:vhost/:name": "parameter.manage",
};

/** The WebSockets whose frames carry operations, by the route that opens them. */
export type SocketKind = "consumer" | "producer" | "stream" | "group" | "topic-producer" | "inbox";

/**
 * Each frame type a socket accepts, and the operation it performs (docs/websocket-protocol.md,
 * docs/streams.md, docs/notifications.md). A frame a socket refuses as belonging to another kind
 * of socket (a `commit` on a stream reader) names the operation of the socket it was sent on.
 */
export const FRAME_OPERATIONS = {
  // The queue object checks the connection's read on the queue before each frame.
  consumer: {
    consume: "frame.consume",
    ack: "frame.consume",
    nack: "frame.consume",
    reject: "frame.consume",
    cancel: "frame.consume",
    extend: "frame.consume",
  },
  producer: { publish: "frame.publish" },
  // subscribe starts a pump that checks read before each read; credit feeds that pump.
  stream: {
    subscribe: "frame.stream-read",
    credit: "frame.stream-read",
    join: "frame.stream-read",
    commit: "frame.stream-read",
  },
  group: {
    join: "frame.group-read",
    credit: "frame.group-read",
    commit: "frame.group-read",
    subscribe: "frame.group-read",
  },
  "topic-producer": { produce: "frame.produce" },
  inbox: {
    ping: "frame.inbox",
    mark_read: "frame.inbox",
    mark_seen: "frame.inbox",
    archive: "frame.inbox",
    mark_all_read: "frame.inbox",
    mark_all_seen: "frame.inbox",
  },
} as const satisfies Record<SocketKind, Record<string, OperationName>>;

/** The operation a frame of this type performs on this kind of socket. */
export function frameOperation<S extends SocketKind>(
  socket: S,
  type: keyof (typeof FRAME_OPERATIONS)[S],
): Operation {
  const sockets: Record<SocketKind, Readonly<Record<string, OperationName>>> = FRAME_OPERATIONS;
  return OPERATIONS[sockets[socket][type as string] as OperationName];
}

/** The operation of an HTTP route, by its method and registered path; undefined if none. */
export function routeOperation(method: string, path: string): Operation | undefined {
  const name = ROUTE_OPERATIONS[`${method === "HEAD" ? "GET" : method} ${path}`];
  return name === undefined ? undefined : OPERATIONS[name];
}

/**
 * A notification inbox: one Durable Object per (vhost, user id). The `notifications` exchange
 * delivers to it (an inbox is a binding destination, bound by the user's id), it keeps the
 * user's notifications in SQLite ordered by sequence, and it serves the user's live sockets with
 * the WebSocket Hibernation API (src/runtime/hibernating-object.ts; the object may leave memory
 * while sockets stay open, and wakes for the next frame or delivery).
 *
 * No gap and no duplicate on resume: accepting a socket and sending it everything after its
 * cursor happen in one synchronous step, so a notification stored before that step is in the
 * backlog and one stored after it is pushed live (deliver() pushes only to the sockets open when
 * it stored). Every mutation is synchronous SQL with no await in between, so
 * each call commits atomically and its answer leaves only once the write is durable.
 */
import { type BrokerConfig, loadConfig, NOTIFICATION_LIMITS } from "../config";
import type { Env } from "../env";
import { type ErrorCode, type Failure, fail, failureResponse, type Result } from "../errors";
import {
  CLIENT_FRAME,
  type ClientFrame,
  parseClientFrame,
  type StateChange,
  serverFrame,
} from "../protocol/inbox-frames";
import { PING_TEXT, PONG_TEXT } from "../protocol/keepalive";
import type { PublishedMessage } from "../protocol/message";
import {
  type ArticleNotification,
  decodeNotification,
  type InboxCounts,
  type InboxNotification,
  type InboxState,
  type NotificationUser,
  parseCursor,
} from "../protocol/notification";
import { HibernatingObject, isWebSocketUpgrade } from "../runtime/hibernating-object";
import { INBOX_MIGRATIONS, InboxStore, type PageQuery } from "../storage/inbox-store";
import { fromJsonColumn } from "../storage/json-column";
import { migrate } from "../storage/migrations";

export type DeliverResult = Result<{ stored: number }>;
export type ProfileResult = Result<{ user: NotificationUser }>;
export type PageResult = Result<{
  notifications: InboxNotification[];
  hasMore: boolean;
  counts: InboxCounts;
}>;
export type ArticleListResult = Result<{ notifications: ArticleNotification[] }>;
export type CountsResult = Result<{ counts: InboxCounts }>;
export type MarkResult = Result<{ changed: number[]; counts: InboxCounts }>;

/** What each live socket remembers across hibernation (serializeAttachment, <= 16 KiB). */
interface SocketAttachment {
  readonly connectedAt: number;
  readonly resumedFrom: number | null;
}

const DAY_MS = 24 * 60 * 60 * 1000;

/** Refusals of a socket, in the notification app's error shape (errors.ts maps the status). */
function refuse(code: ErrorCode, reason: string): Response {
  return failureResponse("article", fail(code, reason));
}

export class InboxObject extends HibernatingObject<SocketAttachment> {
  private readonly store: InboxStore;
  private readonly config: BrokerConfig;
  private user: NotificationUser | null;

  constructor(ctx: DurableObjectState, env: Env) {
    // Keep-alive pings are answered by the runtime without waking a hibernated inbox.
    super(ctx, env, {
      ping: PING_TEXT,
      pong: PONG_TEXT,
      attachment: (stored) => stored as SocketAttachment,
    });
    migrate(ctx.storage, INBOX_MIGRATIONS);
    this.store = new InboxStore(ctx.storage.sql);
    this.config = loadConfig(env);
    this.user = fromJsonColumn<NotificationUser | null>(this.store.getMeta("user"), null);
  }

  /** Records the user this inbox belongs to (the vhost catalog decides create vs. rename). */
  configure(user: NotificationUser): Result<{ created: boolean }> {
    const created = this.user === null;
    this.store.setMeta("user", JSON.stringify(user));
    this.user = user;
    return { ok: true, created };
  }

  profile(): ProfileResult {
    return this.user ? { ok: true, user: this.user } : this.missing();
  }

  /** Deletes the inbox with its notifications and closes its sockets. */
  destroy(): Result<object> {
    for (const socket of this.sockets()) {
      try {
        socket.close(1000, "inbox deleted");
      } catch {
        // already closing
      }
    }
    this.store.clear();
    this.user = null;
    return { ok: true };
  }

  /**
   * Stores a batch routed here by an exchange, in order, and pushes it to the live sockets once
   * it is durable (storage.sync()), so no device shows a notification that a crash could lose.
   * The sockets and frames are taken before that wait: a socket accepted meanwhile already has
   * these notifications in its backlog and must not get them twice.
   */
  async deliver(messages: readonly PublishedMessage[]): Promise<DeliverResult> {
    const user = this.user;
    if (!user) return this.missing();
    const now = Date.now();
    const ids = this.ctx.storage.transactionSync(() => {
      const stored = this.store.insert(
        messages.map((message) => decodeNotification(message.body)),
        now,
      );
      this.prune(now);
      return stored;
    });
    const sockets = this.sockets();
    const frames: string[] = [];
    if (sockets.length > 0) {
      const counts = this.store.counts();
      // Retention may already have dropped some of a very large batch: push what is kept.
      for (const notification of this.store.byIds(ids, user)) {
        frames.push(serverFrame.notification(notification, counts));
      }
    }
    await this.ctx.storage.sync();
    for (const frame of frames) this.broadcast(sockets, frame);
    return { ok: true, stored: messages.length };
  }

  list(query: PageQuery): PageResult {
    const user = this.user;
    if (!user) return this.missing();
    this.prune(Date.now());
    const { items, hasMore } = this.store.page(query, user);
    return { ok: true, notifications: items, hasMore, counts: this.store.counts() };
  }

  /** The article's list: every notification not archived, oldest first, in its shape. */
  articleList(): ArticleListResult {
    const user = this.user;
    if (!user) return this.missing();
    this.prune(Date.now());
    const notifications = this.store
      .after(0, user)
      .filter((n) => n.archived_at === null)
      .map(({ from, to, message }) => ({ from, to, message }));
    return { ok: true, notifications };
  }

  counts(): CountsResult {
    if (!this.user) return this.missing();
    this.prune(Date.now());
    return { ok: true, counts: this.store.counts() };
  }

  /** Marks notifications (or all of them) and tells every live socket of this user. */
  mark(state: InboxState, ids: readonly number[] | "all"): MarkResult {
    if (!this.user) return this.missing();
    const now = Date.now();
    const changed = this.store.mark(state, ids, now);
    const counts = this.store.counts();
    if (changed.length > 0) {
      const change: StateChange = {
        state,
        ids: ids === "all" ? "all" : changed,
        at: new Date(now).toISOString(),
      };
      this.broadcast(this.sockets(), serverFrame.state(change, counts));
    }
    return { ok: true, changed, counts };
  }

  /**
   * A live socket (the Worker has checked access and the cursor's shape). `?after=<cursor>`
   * resumes: the hello frame, then every notification after the cursor, then live pushes.
   */
  override async fetch(request: Request): Promise<Response> {
    if (!isWebSocketUpgrade(request)) {
      return refuse("upgrade_required", "expected a WebSocket upgrade");
    }
    const user = this.user;
    if (!user) return refuse("not_found", "User not found");
    const after = parseCursor(new URL(request.url).searchParams.get("after"));
    if (after === null) return refuse("bad_request", "malformed cursor");
    if (this.sockets().length >= NOTIFICATION_LIMITS.maxSocketsPerInbox) {
      return refuse("too_many_requests", "too many live sockets for this inbox");
    }
    const now = Date.now();
    this.prune(now);
    const latest = this.store.latest();
    // The cursor is from before what retention kept, or from another life of this inbox.
    const resync = after !== undefined && (after < this.store.prunedThrough() || after > latest);
    const backlog = after === undefined || after > latest ? [] : this.store.after(after, user);
    const { socket, response } = this.accept({ connectedAt: now, resumedFrom: after ?? null });
    const counts = this.store.counts();
    socket.send(serverFrame.hello(user, counts, String(latest), resync, backlog.length));
    for (const notification of backlog) {
      socket.send(serverFrame.notification(notification, counts));
    }
    return response;
  }

  /** A frame from a live socket; closes and errors need nothing (the base answers a close). */
  protected override onMessage(socket: WebSocket, message: string | ArrayBuffer): void {
    const frame = parseClientFrame(message);
    if (!frame) {
      this.send(socket, serverFrame.error("malformed frame"));
      return;
    }
    this.handle(socket, frame);
  }

  private handle(socket: WebSocket, frame: ClientFrame): void {
    const type = frame.type;
    switch (type) {
      case CLIENT_FRAME.ping:
        this.send(socket, serverFrame.pong());
        return;
      case CLIENT_FRAME.markRead:
        this.reportFailure(socket, this.mark("read", frame.ids));
        return;
      case CLIENT_FRAME.markSeen:
        this.reportFailure(socket, this.mark("seen", frame.ids));
        return;
      case CLIENT_FRAME.archive:
        this.reportFailure(socket, this.mark("archived", frame.ids));
        return;
      case CLIENT_FRAME.markAllRead:
        this.reportFailure(socket, this.mark("read", "all"));
        return;
      case CLIENT_FRAME.markAllSeen:
        this.reportFailure(socket, this.mark("seen", "all"));
        return;
      default: {
        const unreachable: never = type;
        throw new Error(`unhandled frame type ${String(unreachable)}`);
      }
    }
  }

  private reportFailure(socket: WebSocket, result: MarkResult): void {
    if (!result.ok) this.send(socket, serverFrame.error(result.reason));
  }

  private prune(now: number): void {
    this.store.prune(now, this.config.inboxMaxNotifications, this.config.inboxMaxAgeDays * DAY_MS);
  }

  private broadcast(sockets: readonly WebSocket[], frame: string): void {
    for (const socket of sockets) this.send(socket, frame);
  }

  private send(socket: WebSocket, frame: string): void {
    // A socket closing under us misses nothing: it resumes from its cursor when it reconnects.
    this.sendText(socket, frame);
  }

  private missing(): Failure {
    return fail("not_found", "User not found");
  }
}

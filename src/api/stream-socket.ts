/**
 * A stream reader on a WebSocket (`GET /api/streams/{vhost}/{name}/consume`): the reader sends
 * `subscribe` with an offset spec and an initial credit, then `credit` frames; the broker sends
 * `deliver` frames carrying many messages each, never more than the credit granted. Terminated in
 * the Worker: each reader long-polls the stream object from its own position, so readers never
 * slow each other down and the stream object keeps no per-reader state.
 */
import type { Hono } from "hono";
import { type Call, permitted } from "../access/operation-check";
import { frameOperation, type Operation } from "../access/operations";
import { LIMITS } from "../config";
import type { Env } from "../env";
import { unwrap } from "../errors";
import { currentAccess } from "../gateway/access-cache";
import { streamStub, vhostStub } from "../gateway/stubs";
import type { FrameErrorCode } from "../protocol/error-codes";
import {
  parseStreamReaderFrame,
  STREAM_FRAME,
  type StreamServerFrame,
} from "../protocol/stream-frames";
import { CreditGate } from "../streams/credit-gate";
import type { AppContext, AppEnv } from "./context";
import { authorize } from "./guards";
import { nameParam } from "./params";
import { PartitionPump } from "./partition-pump";
import { resource } from "./routes";
import { connect } from "./sockets";

/**
 * Counts a Worker-terminated stream connection against the vhost's max-connections, the way a
 * producer connection is counted (refreshed while open), and answers the release for its close.
 */
export async function holdConnection(c: AppContext, vhost: string): Promise<() => void> {
  const catalog = vhostStub(c.env, vhost);
  const connection = crypto.randomUUID();
  unwrap(await catalog.openConnection(vhost, connection, ""));
  const heartbeat = setInterval(() => {
    void catalog.touchConnection(connection);
  }, LIMITS.producerHeartbeatMs);
  let released = false;
  return () => {
    if (released) return;
    released = true;
    clearInterval(heartbeat);
    c.executionCtx.waitUntil(catalog.closeConnection(connection));
  };
}

export function openSocket(): [WebSocket, WebSocket] {
  const [client, server] = Object.values(new WebSocketPair()) as [WebSocket, WebSocket];
  server.accept();
  return [client, server];
}

export function sendFrame(socket: WebSocket, frame: StreamServerFrame): void {
  try {
    socket.send(JSON.stringify(frame));
  } catch {
    // The socket closed under us: its close handler stops the reader.
  }
}

/** Who opened a stream socket: the user name and the identity it logged in as. */
export interface SocketUser {
  readonly name: string;
  readonly identity: string;
}

/**
 * The user's current rights, as a producer connection checks them per frame: a user deleted and
 * created again, or whose password was set, is someone else for this connection
 * (docs/security.md). Cached per isolate (LIMITS.accessCacheMs).
 */
export async function allowedNow(
  env: Env,
  user: SocketUser,
  operation: Operation,
  call: Call,
): Promise<boolean> {
  const access = await currentAccess(env, user.name);
  return access !== null && access.identity === user.identity && permitted(access, operation, call);
}

/** The subscription's operation (read on the stream), checked again before each read. */
export function readCheck(
  env: Env,
  user: SocketUser,
  vhost: string,
  name: string,
): () => Promise<boolean> {
  return () => allowedNow(env, user, frameOperation("stream", "subscribe"), { vhost, name });
}

class StreamReaderSession {
  private pump: PartitionPump | null = null;
  private gate: CreditGate | null = null;

  constructor(
    private readonly socket: WebSocket,
    private readonly env: Env,
    private readonly vhost: string,
    private readonly stream: string,
    private readonly user: SocketUser,
  ) {}

  async receive(data: unknown): Promise<void> {
    const parsed = parseStreamReaderFrame(typeof data === "string" ? data : "");
    if (!parsed.ok) {
      sendFrame(this.socket, {
        type: STREAM_FRAME.error,
        code: parsed.code,
        reason: parsed.reason,
      });
      return;
    }
    const frame = parsed.frame;
    switch (frame.type) {
      case STREAM_FRAME.subscribe: {
        if (this.pump) {
          this.fail("bad_frame", "already subscribed");
          return;
        }
        const resolved = await streamStub(this.env, this.vhost, this.stream).resolve(frame.offset);
        if (!resolved.ok) {
          this.fail(resolved.code, resolved.reason);
          return;
        }
        this.gate = new CreditGate(frame.credit);
        this.pump = new PartitionPump(
          this.env,
          { vhost: this.vhost, stream: this.stream },
          resolved.offset,
          this.gate,
          frame.encoding,
          {
            send: (out) => sendFrame(this.socket, out),
            allowed: readCheck(this.env, this.user, this.vhost, this.stream),
            delivered: () => {},
            failed: (code, reason) => this.fail(code, reason),
          },
        );
        sendFrame(this.socket, { type: STREAM_FRAME.subscribeOk, offset: resolved.offset });
        void this.pump.run();
        return;
      }
      case STREAM_FRAME.credit:
        if (!this.gate) {
          this.fail("bad_frame", "credit before subscribe");
          return;
        }
        this.gate.add(frame.credit);
        return;
      case STREAM_FRAME.commit:
      case STREAM_FRAME.join:
        this.fail("bad_frame", `${frame.type} frames belong to consumer group connections`);
        return;
      default: {
        const never: never = frame;
        return never;
      }
    }
  }

  close(): void {
    this.pump?.stop();
    this.gate?.close();
  }

  private fail(code: FrameErrorCode, reason: string): void {
    sendFrame(this.socket, { type: STREAM_FRAME.error, code, reason });
    if (code === "access_refused" || code === "not_found") {
      this.close();
      this.socket.close(1008, reason.slice(0, 120));
    }
  }
}

/** Registered before the /api login middleware: upgrades carry their own credentials. */
export function streamSocketRoutes(app: Hono<AppEnv>): void {
  resource(app, "/api/streams/:vhost/:name/consume", {
    GET: async (c) => {
      const vhost = await connect(c);
      const name = nameParam(c, "queue");
      authorize(c, { vhost, name });
      const release = await holdConnection(c, vhost);
      const [client, server] = openSocket();
      const session = new StreamReaderSession(server, c.env, vhost, name, c.get("principal"));
      let frames = Promise.resolve();
      server.addEventListener("message", (event) => {
        // Frames are handled in order: a credit never overtakes its subscribe.
        frames = frames.then(() => session.receive(event.data));
      });
      const closed = () => {
        session.close();
        release();
      };
      server.addEventListener("close", closed);
      server.addEventListener("error", closed);
      return new Response(null, { status: 101, webSocket: client });
    },
  });
}

/**
 * The base of every Durable Object that serves WebSockets with the Hibernation API (modelled on
 * partyserver's Server): the object may leave memory while its sockets stay open, and wakes for
 * the next frame, close or alarm. It does the plumbing once:
 * - accept: `ctx.acceptWebSocket` with tags, and the socket's attachment (what it must remember
 *   across hibernation, <= 16 KiB) serialized at once, answered with the 101 response;
 * - keep-alive: the ping frame is answered by the runtime (`setWebSocketAutoResponse`) without
 *   waking the object;
 * - turn order: frames, closes and errors are handled one at a time, in arrival order, over the
 *   whole object (a handler may await another object, and a later frame must not overtake it);
 *   subclasses put their own steps in the same line with `inTurn`;
 * - close: the subclass forgets the socket (`onClose`), then the close is answered; an error is
 *   handled as a close.
 */
import { DurableObject } from "cloudflare:workers";
import type { Env } from "../env";

export interface HibernationOptions<A> {
  /** The keep-alive frame the runtime answers with `pong` without waking the object. */
  readonly ping: string;
  readonly pong: string;
  /** Reads an attachment back, filling in what a socket accepted by an older version lacks. */
  readonly attachment: (stored: unknown) => A;
}

/** Whether a request asks to become a WebSocket. */
export function isWebSocketUpgrade(request: Request): boolean {
  return request.headers.get("Upgrade")?.toLowerCase() === "websocket";
}

export abstract class HibernatingObject<A> extends DurableObject<Env> {
  private turns: Promise<void> = Promise.resolve();
  private readonly readAttachment: (stored: unknown) => A;
  private readonly attachments = new WeakMap<WebSocket, A>();

  constructor(ctx: DurableObjectState, env: Env, options: HibernationOptions<A>) {
    super(ctx, env);
    this.readAttachment = options.attachment;
    ctx.setWebSocketAutoResponse(new WebSocketRequestResponsePair(options.ping, options.pong));
  }

  /** A frame from a socket, in its turn. */
  protected abstract onMessage(
    socket: WebSocket,
    message: string | ArrayBuffer,
  ): Promise<void> | void;

  /** A socket closed (or failed): forget it. Runs in turn, before the close is answered. */
  protected onClose(_socket: WebSocket): Promise<void> | void {}

  /**
   * Accepts the server end of a new socket with its attachment and tags (`sockets(tag)` finds it
   * again); answers that end, to send on before the upgrade is answered, and the 101 response.
   */
  protected accept(attachment: A, tags: string[] = []): { socket: WebSocket; response: Response } {
    const pair = new WebSocketPair();
    const [client, server] = [pair[0], pair[1]];
    this.ctx.acceptWebSocket(server, tags);
    server.serializeAttachment(attachment);
    return { socket: server, response: new Response(null, { status: 101, webSocket: client }) };
  }

  protected attachmentOf(socket: WebSocket): A {
    // Read once per socket while the object is in memory (every frame asks for it); the
    // attachment is written once, at accept.
    let attachment = this.attachments.get(socket);
    if (attachment === undefined) {
      attachment = this.readAttachment(socket.deserializeAttachment());
      this.attachments.set(socket, attachment);
    }
    return attachment;
  }

  /** The open sockets, or those accepted with `tag`. */
  protected sockets(tag?: string): WebSocket[] {
    return this.ctx.getWebSockets(tag);
  }

  /**
   * Sends a text frame; false if the socket is closing (whoever owns its state learns of that
   * from its close, so the sender need not).
   */
  protected sendText(socket: WebSocket, text: string): boolean {
    try {
      socket.send(text);
      return true;
    } catch {
      return false;
    }
  }

  /** Runs `step` after every frame, close and step queued before it; a failure ends only itself. */
  protected inTurn(step: () => Promise<void> | void): Promise<void> {
    const turn = this.turns.then(step);
    this.turns = turn.catch(() => undefined);
    return turn;
  }

  override async webSocketMessage(socket: WebSocket, message: string | ArrayBuffer): Promise<void> {
    return this.inTurn(() => this.onMessage(socket, message));
  }

  /** A close waits for the frames before it (acks sent just before a close count). */
  override async webSocketClose(socket: WebSocket, code: number, reason: string): Promise<void> {
    await this.inTurn(async () => {
      await this.onClose(socket);
      answerClose(socket, code, reason);
    });
  }

  override async webSocketError(socket: WebSocket): Promise<void> {
    await this.inTurn(() => this.onClose(socket));
  }
}

/**
 * Answers a peer's close with its code; 1005 (no code given) and 1006 (dropped) may not be sent,
 * and are answered as a normal close.
 */
function answerClose(socket: WebSocket, code: number, reason: string): void {
  try {
    if (code === 1005 || code === 1006) socket.close(1000, reason);
    else socket.close(code, reason);
  } catch {
    // Already closed: nothing to answer.
  }
}

/**
 * A WebSocket constructor for the client library inside the Workers test pool: `new WebSocket(url)`
 * cannot reach the Worker under test from there, so this one upgrades through the Worker's own
 * fetch. `drop()` simulates a connection that dies (as a network failure would).
 */
import { exports } from "cloudflare:workers";
import type { SocketConstructor } from "../../client/sockets";

export class PoolSockets {
  readonly opened: PoolWebSocket[] = [];

  constructor(private readonly authorization: string) {}

  get constructorFn(): SocketConstructor {
    const sockets = this;
    return class extends PoolWebSocket {
      constructor(url: string) {
        super(url, sockets.authorization);
        sockets.opened.push(this);
      }
    } as unknown as SocketConstructor;
  }
}

export class PoolWebSocket extends EventTarget {
  static readonly CONNECTING = 0;
  static readonly OPEN = 1;
  static readonly CLOSING = 2;
  static readonly CLOSED = 3;
  readonly CONNECTING = 0;
  readonly OPEN = 1;
  readonly CLOSING = 2;
  readonly CLOSED = 3;
  readyState = 0;
  binaryType = "blob";
  private inner: WebSocket | null = null;
  /** Every frame this socket sent, in order (tests count frames with it). */
  readonly sent: string[] = [];

  constructor(url: string, authorization: string) {
    super();
    const request = new Request(url.replace(/^ws/, "http"), {
      headers: { Upgrade: "websocket", Authorization: authorization },
    });
    void exports.default.fetch(request).then((response) => {
      const ws = response.webSocket;
      if (response.status !== 101 || !ws) {
        this.readyState = 3;
        this.dispatchEvent(new Event("error"));
        return;
      }
      ws.accept();
      this.inner = ws;
      this.readyState = 1;
      ws.addEventListener("message", (e) =>
        this.dispatchEvent(new MessageEvent("message", { data: e.data })),
      );
      ws.addEventListener("close", (e) => this.closed(e.code, e.reason));
      this.dispatchEvent(new Event("open"));
    });
  }

  send(data: string): void {
    this.sent.push(data);
    this.inner?.send(data);
  }

  close(code = 1000, reason = ""): void {
    this.inner?.close(code, reason);
    this.closed(code, reason);
  }

  /** The connection dies: the broker sees it close, the client sees an abnormal close. */
  drop(): void {
    this.inner?.close(1011, "dropped");
    this.closed(1006, "dropped");
  }

  private closed(code: number, reason: string): void {
    if (this.readyState === 3) return;
    this.readyState = 3;
    this.dispatchEvent(new CloseEvent("close", { code, reason }));
  }
}

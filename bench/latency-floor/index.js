// The platform's floor for publish -> deliver at one message per frame (bench/latency-floor.mjs):
// a Worker and one Durable Object per queue doing only what any broker on this platform does per
// message, speaking just enough of the broker's WebSocket protocol (docs/websocket-protocol.md)
// for the benchmark's own client (bench/messaging/ws-adapter.mjs) to drive it unchanged:
//   producer socket, in the Worker: a publish frame -> one RPC to the queue's object -> the
//     confirm once the object answered (its row committed);
//   the queue's object: one INSERT per message in its SQLite, a deliver frame to its consumer
//     socket (hibernatable, as the broker's), the acked rows deleted together within 25 ms.
// No validation, routing, permissions, flow control or bookkeeping: what is left is the
// runtime's own work. Not part of the broker; no credentials (loopback benchmark only).
import { DurableObject } from "cloudflare:workers";

export class FloorQueue extends DurableObject {
  acked = [];
  ackTimer = undefined;

  constructor(ctx, env) {
    super(ctx, env);
    ctx.storage.sql.exec(
      "CREATE TABLE IF NOT EXISTS messages (seq INTEGER PRIMARY KEY AUTOINCREMENT, routing_key TEXT, payload TEXT NOT NULL)",
    );
  }

  async fetch() {
    const pair = new WebSocketPair();
    this.ctx.acceptWebSocket(pair[1]);
    return new Response(null, { status: 101, webSocket: pair[0] });
  }

  enqueue(routingKey, payload) {
    const { seq } = this.ctx.storage.sql
      .exec(
        "INSERT INTO messages (routing_key, payload) VALUES (?, ?) RETURNING seq",
        routingKey,
        payload,
      )
      .one();
    for (const ws of this.ctx.getWebSockets()) {
      const tag = ws.deserializeAttachment();
      if (!tag) continue;
      ws.send(
        JSON.stringify({
          type: "deliver",
          tag,
          delivery_tag: seq,
          redelivered: false,
          exchange: "",
          routing_key: routingKey,
          properties: { delivery_mode: 2 },
          payload,
          payload_encoding: "string",
        }),
      );
    }
    return seq;
  }

  depth() {
    return this.ctx.storage.sql.exec("SELECT count(*) AS n FROM messages").one().n;
  }

  webSocketMessage(ws, message) {
    const frame = JSON.parse(message);
    if (frame.type === "ack") {
      // Acks are held and removed together within 25 ms, as the broker does (one commit for
      // many acks): a commit per ack would make this slower than the broker, not a floor.
      this.acked.push(frame.delivery_tag);
      this.ackTimer ??= setTimeout(() => {
        const tags = this.acked;
        this.acked = [];
        this.ackTimer = undefined;
        this.ctx.storage.sql.exec(
          "DELETE FROM messages WHERE seq IN (SELECT value FROM json_each(?))",
          JSON.stringify(tags),
        );
      }, 25);
    } else if (frame.type === "consume") {
      ws.serializeAttachment(frame.tag);
      ws.send(JSON.stringify({ type: "consume_ok", tag: frame.tag }));
    } else if (frame.type === "cancel") {
      ws.serializeAttachment(null);
      ws.send(JSON.stringify({ type: "cancel_ok", tag: frame.tag }));
    }
  }
}

const queueOf = (env, name) => env.QUEUE.get(env.QUEUE.idFromName(name));

function producer(env) {
  const pair = new WebSocketPair();
  const server = pair[1];
  server.accept();
  server.addEventListener("message", async (event) => {
    const { seq, routing_key: routingKey, payload } = JSON.parse(event.data);
    await queueOf(env, routingKey).enqueue(routingKey, payload);
    server.send(JSON.stringify({ type: "confirm", seq, multiple: false, routed: true }));
  });
  return new Response(null, { status: 101, webSocket: pair[0] });
}

export default {
  async fetch(request, env) {
    const path = new URL(request.url).pathname.split("/").map(decodeURIComponent);
    // /api/publish/{vhost}, /api/queues/{vhost}/{queue}[/consume]
    if (request.headers.get("Upgrade") === "websocket") {
      if (path[2] === "publish") return producer(env);
      if (path[2] === "queues" && path[5] === "consume")
        return queueOf(env, path[4]).fetch(request);
      return new Response("not found", { status: 404 });
    }
    if (path[1] === "health") return new Response("ok");
    if (request.method === "GET" && path[2] === "queues" && path[4]) {
      return Response.json({ messages: await queueOf(env, path[4]).depth() });
    }
    // Declarations (PUT queue, exchange, binding): nothing to declare here.
    return new Response(null, { status: request.method === "PUT" ? 201 : 204 });
  },
};

/**
 * A topic producer on a WebSocket (`GET /api/topics/{vhost}/{topic}/producer`): `produce` frames
 * carry the HTTP produce body with a `seq`, and each is answered `produce_ok` (partitions and
 * offsets, once every partition stored its part) or an `error` with that `seq`. Frames are
 * handled one after another, so order per key holds across frames as within one; a client keeps
 * several connections for more in flight. Saves the per-request cost of HTTP.
 */
import type { Hono } from "hono";
import { frameOperation } from "../access/operations";
import { BrokerError } from "../errors";
import { produce } from "../gateway/produce";
import { parseProduceFrame, STREAM_FRAME } from "../protocol/stream-frames";
import type { AppEnv } from "./context";
import { authorize } from "./guards";
import { nameParam } from "./params";
import { resource } from "./routes";
import { connect } from "./sockets";
import { allowedNow, holdConnection, openSocket, sendFrame } from "./stream-socket";
import { producedMessages, requireTopic } from "./topics";

/** What each produce frame needs: write on the topic, checked against the user's current access. */
const PRODUCE = frameOperation("topic-producer", "produce");

export function topicProducerRoutes(app: Hono<AppEnv>): void {
  resource(app, "/api/topics/:vhost/:name/producer", {
    GET: async (c) => {
      const vhost = await connect(c);
      const name = nameParam(c, "queue");
      authorize(c, { vhost, name });
      const topic = await requireTopic(c, vhost, name);
      const release = await holdConnection(c, vhost);
      const [client, server] = openSocket();
      const user = c.get("principal");
      const config = c.get("config");
      const handle = async (data: unknown): Promise<void> => {
        const parsed = parseProduceFrame(typeof data === "string" ? data : "");
        if (!parsed.ok) {
          sendFrame(server, { type: STREAM_FRAME.error, code: parsed.code, reason: parsed.reason });
          return;
        }
        const frame = parsed.frame;
        try {
          if (!(await allowedNow(c.env, user, PRODUCE, { vhost, name }))) {
            throw new BrokerError("access_refused", `write access to topic '${name}' refused`);
          }
          const { messages, producer } = producedMessages(name, frame, config);
          const answer = await produce(c.env, topic, messages, producer);
          if (!answer.ok) throw BrokerError.from(answer);
          sendFrame(server, {
            type: STREAM_FRAME.produceOk,
            seq: frame.seq,
            results: answer.results,
            duplicate: answer.duplicate,
          });
        } catch (error) {
          if (!(error instanceof BrokerError)) throw error;
          sendFrame(server, {
            type: STREAM_FRAME.error,
            code: error.code,
            reason: error.reason,
            seq: frame.seq,
          });
        }
      };
      let frames = Promise.resolve();
      server.addEventListener("message", (event) => {
        frames = frames
          .then(() => handle(event.data))
          .catch(() => {
            sendFrame(server, {
              type: STREAM_FRAME.error,
              code: "internal_error",
              reason: "internal error",
            });
          });
      });
      server.addEventListener("close", release);
      server.addEventListener("error", release);
      return new Response(null, { status: 101, webSocket: client });
    },
  });
}

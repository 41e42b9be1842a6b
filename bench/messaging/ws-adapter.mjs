// Our broker as a messaging-suite adapter (bench/messaging/suite.mjs): producers and consumers speak
// the WebSocket frame protocol directly (src/protocol/frames.ts), without the typed client's
// reconnects, so that every dropped connection or unexpected frame is seen and counted. Setup,
// queue depths and pre-filling go through the HTTP API (publish-batch, 1,000 messages a request).

import { HOST, withTimeout } from "../lib/common.mjs";
import { callApi } from "../lib/http.mjs";

const V = "%2F";
const OPEN_TIMEOUT_MS = 15_000;
const CLOSE_TIMEOUT_MS = 5_000;
const FILL_BATCH = 1000;
const FILL_CONCURRENCY = 2;

export function workersBrokerAdapter({ port, authorization, server, serverChanged }) {
  const origin = `http://${HOST}:${port}`;
  const wsOrigin = `ws://${HOST}:${port}`;

  const api = (method, path, body, expect) =>
    callApi(origin, method, path, body, { expect, authorization, timeoutMs: 60_000 });

  /** Opens a WebSocket with the credentials; rejects if it does not open (bounded). */
  function open(path, onMessage, onFailure) {
    const ws = new WebSocket(`${wsOrigin}${path}`, { headers: { Authorization: authorization } });
    let closing = false;
    let opened = false;
    const closed = new Promise((resolve) => ws.addEventListener("close", resolve));
    ws.addEventListener("message", (event) => {
      if (typeof event.data !== "string") onFailure(`binary frame on ${path}`, { fatal: false });
      else onMessage(event.data);
    });
    ws.addEventListener("close", (event) => {
      if (opened && !closing)
        onFailure(`${path} closed by the broker: ${event.code} ${event.reason}`);
    });
    const ready = withTimeout(
      new Promise((resolve, reject) => {
        ws.addEventListener("open", () => {
          opened = true;
          resolve();
        });
        ws.addEventListener("error", () => {
          if (!opened) reject(new Error(`WebSocket ${path} did not open`));
        });
      }),
      OPEN_TIMEOUT_MS,
      `WebSocket ${path}`,
    );
    return {
      ws,
      ready,
      async close() {
        closing = true;
        if (ws.readyState === WebSocket.OPEN || ws.readyState === WebSocket.CONNECTING) {
          ws.close(1000, "bench done");
        }
        await withTimeout(closed, CLOSE_TIMEOUT_MS, `closing ${path}`).catch(() => {});
      },
    };
  }

  return {
    short: "ours",
    name: "workers-broker over WebSocket (wrangler dev)",
    queue: "bench.ws",
    latencyQueue: "bench.ws.latency",
    directExchange: "bench.ws.direct",
    directKey: "ws",
    server,
    serverChanged,

    async setup() {
      for (const q of ["bench.ws", "bench.ws.latency"]) {
        await api("PUT", `/api/queues/${V}/${q}`, { durable: true }, [201, 204]);
      }
      await api("PUT", `/api/exchanges/${V}/bench.ws.direct`, { type: "direct" }, [201, 204]);
      await api(
        "POST",
        `/api/bindings/${V}/e/bench.ws.direct/q/bench.ws`,
        { routing_key: "ws" },
        [201, 204],
      );
    },

    async depth(queue) {
      return (await api("GET", `/api/queues/${V}/${queue}`, undefined, [200])).messages;
    },

    /** publish-batch to the default exchange, FILL_CONCURRENCY requests at a time. */
    async prefill(queue, count, next, settle) {
      let left = count;
      const worker = async () => {
        while (left > 0) {
          const batch = Array.from({ length: Math.min(FILL_BATCH, left) }, next);
          left -= batch.length;
          let results = null;
          let why = "";
          try {
            const body = await api(
              "POST",
              `/api/exchanges/${V}/amq.default/publish-batch`,
              {
                messages: batch.map((m) => ({
                  properties: { delivery_mode: 2 },
                  routing_key: queue,
                  payload: m.payload,
                  payload_encoding: "string",
                })),
              },
              [200],
            );
            results = body?.results;
          } catch (e) {
            why = e.message;
          }
          batch.forEach((m, i) => {
            const routed = Array.isArray(results) && results[i]?.routed === true;
            settle(
              m.id,
              routed,
              why || `publish-batch: not routed (${JSON.stringify(results?.[i])})`,
            );
          });
          if (why) throw new Error(`prefill of ${queue} failed: ${why}`);
        }
      };
      await Promise.all(Array.from({ length: FILL_CONCURRENCY }, worker));
    },

    /** A producer socket: publish frames with increasing seq; confirm / nack frames back. */
    async openProducer({ onConfirm, onNack, onFailure }) {
      const outstanding = []; // [seq, id] in send order (confirms come in seq order)
      let head = 0;
      let seq = 0;
      const stats = { confirmFrames: 0, multipleFrames: 0 };
      // A wrong frame is counted, and the connection goes on; losing the connection ends the run.
      const bad = (why) => onFailure(`producer: ${why}`, { fatal: false });
      const socket = open(
        `/api/publish/${V}`,
        (text) => {
          let f;
          try {
            f = JSON.parse(text);
          } catch {
            return bad(`frame not JSON: ${text.slice(0, 100)}`);
          }
          if (f.type === "confirm") {
            stats.confirmFrames++;
            if (f.multiple) stats.multipleFrames++;
            if (!Number.isInteger(f.seq) || typeof f.routed !== "boolean") {
              return bad(`malformed confirm ${text.slice(0, 200)}`);
            }
            if (head >= outstanding.length || outstanding[head][0] > f.seq) {
              return bad(`confirm for seq ${f.seq}, which is not outstanding`);
            }
            if (!f.multiple && outstanding[head][0] !== f.seq) {
              return bad(
                `confirm for seq ${f.seq} before seq ${outstanding[head][0]} (out of order)`,
              );
            }
            while (head < outstanding.length && outstanding[head][0] <= f.seq) {
              onConfirm(outstanding[head][1], f.routed);
              head++;
            }
            if (outstanding[head - 1][0] !== f.seq) {
              bad(`confirm multiple up to seq ${f.seq}, which was never sent`);
            }
          } else if (f.type === "nack") {
            const i = outstanding.findIndex(([s], k) => k >= head && s === f.seq);
            if (i !== head) return bad(`nack for seq ${f.seq}, not the oldest outstanding`);
            head++;
            onNack(outstanding[i][1], `${f.code}: ${f.reason}`);
          } else {
            bad(`unexpected frame ${text.slice(0, 200)}`);
          }
          if (head > 4096 && head * 2 > outstanding.length) {
            outstanding.splice(0, head);
            head = 0;
          }
        },
        bad,
      );
      await socket.ready;
      return {
        publish(exchange, routingKey, id, payload) {
          seq++;
          outstanding.push([seq, id]);
          socket.ws.send(
            JSON.stringify({
              type: "publish",
              seq,
              exchange,
              routing_key: routingKey,
              properties: { delivery_mode: 2 },
              payload,
              payload_encoding: "string",
            }),
          );
        },
        close: () => socket.close(),
        stats: () => ({ ...stats }),
      };
    },

    /** A consumer socket on `queue`: consume, deliver frames, acks, cancel. */
    async consume(queue, { prefetch, onDelivery, onFailure }) {
      const tag = `bench-${queue}`;
      let consumeOk;
      let cancelOk;
      const subscribed = new Promise((resolve) => {
        consumeOk = resolve;
      });
      const cancelled = new Promise((resolve) => {
        cancelOk = resolve;
      });
      let lastTag = 0;
      const state = { delivered: 0, acks: 0, lastAck: 0, phase: "consuming" };
      const bad = (why) =>
        onFailure(
          `consumer ${queue}: ${why} (${state.phase}; ${state.delivered} deliveries, ` +
            `${state.acks} ack frames, last acked tag ${state.lastAck}, last delivered tag ${lastTag})`,
          { fatal: false }, // counted; the consumer goes on (a later ack multiple covers it)
        );
      let handle = null;
      const socket = open(
        `/api/queues/${V}/${queue}/consume`,
        (text) => {
          let f;
          try {
            f = JSON.parse(text);
          } catch {
            return bad(`frame not JSON: ${text.slice(0, 100)}`);
          }
          if (f.type === "deliver") {
            if (f.payload_encoding !== "string" || !Number.isInteger(f.delivery_tag)) {
              return bad(`unexpected deliver frame ${text.slice(0, 200)}`);
            }
            if (f.delivery_tag <= lastTag) bad(`delivery tag ${f.delivery_tag} after ${lastTag}`);
            lastTag = f.delivery_tag;
            state.delivered++;
            onDelivery(
              { tag: f.delivery_tag, payload: f.payload, redelivered: f.redelivered },
              handle,
            );
          } else if (f.type === "consume_ok") consumeOk();
          else if (f.type === "cancel_ok") cancelOk();
          else bad(`unexpected frame ${text.slice(0, 200)}`);
        },
        bad,
      );
      handle = {
        ack(deliveryTag, multiple) {
          state.acks++;
          state.lastAck = deliveryTag;
          socket.ws.send(JSON.stringify({ type: "ack", delivery_tag: deliveryTag, multiple }));
        },
        async cancel() {
          state.phase = "cancelling";
          socket.ws.send(JSON.stringify({ type: "cancel", tag }));
          await cancelled;
          state.phase = "cancelled";
        },
        close: () => {
          state.phase = "closing";
          return socket.close();
        },
      };
      await socket.ready;
      socket.ws.send(JSON.stringify({ type: "consume", tag, prefetch, ack: "manual" }));
      await withTimeout(subscribed, OPEN_TIMEOUT_MS, `consume_ok on ${queue}`);
      return handle;
    },

    async close() {},
  };
}

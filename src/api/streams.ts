/**
 * Reading streams over HTTP: `POST /api/streams/{vhost}/{name}/fetch` from an offset spec, with a
 * count, a byte budget and a long-poll wait, and `GET /api/streams/{vhost}/{name}` for a
 * stream's offsets and size. Reading never removes; it needs read permission on the queue.
 */
import type { Hono } from "hono";
import { z } from "zod";
import { STREAM_LIMITS } from "../config";
import { BrokerError, unwrap } from "../errors";
import { streamStub } from "../gateway/stubs";
import { offsetSpecSchema } from "../protocol/stream";
import { wireMessage } from "../protocol/stream-frames";
import type { LogBounds } from "../storage/stream-store";
import { parseBody } from "./body";
import type { AppContext, AppEnv } from "./context";
import { authorize, currentOperation } from "./guards";
import { nameParam, vhostParam } from "./params";
import { resource } from "./routes";
import { allowedNow } from "./stream-socket";

export const fetchBodySchema = z.object({
  offset: offsetSpecSchema,
  count: z
    .number()
    .int()
    .min(1)
    .max(STREAM_LIMITS.maxFetchCount)
    .default(STREAM_LIMITS.defaultFetchCount),
  max_bytes: z
    .number()
    .int()
    .min(1)
    .max(STREAM_LIMITS.maxFetchBytes)
    .default(STREAM_LIMITS.defaultFetchBytes),
  wait_ms: z.number().int().min(0).max(STREAM_LIMITS.maxFetchWaitMs).default(0),
  encoding: z.enum(["auto", "base64"]).default("auto"),
});

/** A log's bounds as the API shows them: `last_offset` is -1 while nothing was ever stored. */
export function presentBounds(bounds: LogBounds): Record<string, number | null> {
  return {
    first_offset: bounds.first,
    last_offset: bounds.next - 1,
    next_offset: bounds.next,
    messages: bounds.next - bounds.first,
    bytes: bounds.bytes,
    chunks: bounds.chunks,
    first_timestamp: bounds.firstTimestamp,
    last_timestamp: bounds.lastTimestamp,
  };
}

/**
 * A long poll may have waited across a revocation: read permission is checked again before
 * anything it found is answered.
 */
export async function recheckAfterWait(
  c: AppContext,
  vhost: string,
  name: string,
  waitMs: number,
  found: number,
): Promise<void> {
  if (
    waitMs > 0 &&
    found > 0 &&
    !(await allowedNow(c.env, c.get("principal"), currentOperation(c), { vhost, name }))
  ) {
    throw new BrokerError("access_refused", `read access to '${name}' in vhost '${vhost}' refused`);
  }
}

export function streamRoutes(app: Hono<AppEnv>): void {
  resource(app, "/api/streams/:vhost/:name", {
    GET: async (c) => {
      const vhost = vhostParam(c);
      const name = nameParam(c, "queue");
      authorize(c, { vhost, name });
      const { declaration, bounds } = unwrap(await streamStub(c.env, vhost, name).info());
      return c.json({ name, vhost, arguments: declaration.arguments, ...presentBounds(bounds) });
    },
  });

  resource(app, "/api/streams/:vhost/:name/fetch", {
    POST: async (c) => {
      const vhost = vhostParam(c);
      const name = nameParam(c, "queue");
      const body = await parseBody(c, fetchBodySchema);
      authorize(c, { vhost, name });
      const answer = unwrap(
        await streamStub(c.env, vhost, name).read({
          offset: body.offset,
          count: body.count,
          maxBytes: body.max_bytes,
          waitMs: body.wait_ms,
        }),
      );
      await recheckAfterWait(c, vhost, name, body.wait_ms, answer.messages.length);
      return c.json({
        ...presentBounds(answer.bounds),
        messages: answer.messages.map((m) => wireMessage(m, body.encoding)),
        next_offset: answer.next,
      });
    },
  });
}

/**
 * How every socket reads a client's frame: JSON text within a size limit, well-formed Unicode,
 * then a zod schema (a discriminated union on `type` for sockets with several frame types). The
 * answer is the typed frame, or the error code and reason the socket sends back.
 *
 * Imports end in `.ts`: the typed client (client/) imports frames.ts's types, and the bridge
 * type-checks client/ under Node's module resolution, which wants the extension.
 */
import type { z } from "zod";
import type { FrameErrorCode } from "./error-codes.ts";
import { findIllFormed, illFormedReason } from "./unicode.ts";

export type FrameParse<T> =
  | { ok: true; frame: T }
  | { ok: false; code: FrameErrorCode; reason: string };

/** Parses a frame's text: JSON, an object with a known `type`, fields of the right shape. */
export function parseFrame<T>(schema: z.ZodType<T>, text: string, limit: number): FrameParse<T> {
  const json = parseJson(text, limit);
  return json.ok ? parseValue(schema, json.frame) : json;
}

/** The JSON value of a frame's text, refused when too long, not JSON or not well-formed Unicode. */
export function parseJson(text: string, limit: number): FrameParse<unknown> {
  if (text.length > limit) {
    return { ok: false, code: "frame_too_large", reason: `frame is larger than ${limit} bytes` };
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { ok: false, code: "bad_frame", reason: "frame is not valid JSON" };
  }
  const illFormed = findIllFormed(text, value);
  if (illFormed !== null)
    return { ok: false, code: "bad_frame", reason: illFormedReason(illFormed) };
  return { ok: true, frame: value };
}

/** A JSON value through a frame schema: an unknown `type` is `unknown_frame`, the rest `bad_frame`. */
export function parseValue<T>(schema: z.ZodType<T>, value: unknown): FrameParse<T> {
  const parsed = schema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue?.path.length ? `${issue.path.join(".")}: ` : "";
    const unknownType =
      (issue?.code === "invalid_union" || issue?.code === "invalid_value") &&
      (issue.path.length === 0 || (issue.path.length === 1 && issue.path[0] === "type"));
    return {
      ok: false,
      code: unknownType ? "unknown_frame" : "bad_frame",
      reason: unknownType ? "unknown frame type" : `${where}${issue?.message ?? "invalid frame"}`,
    };
  }
  return { ok: true, frame: parsed.data };
}

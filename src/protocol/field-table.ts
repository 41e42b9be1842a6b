/**
 * AMQP field tables as JSON: binding and queue arguments, message headers. Nesting is bounded
 * so that no request can make routing, hashing or storage recurse without end.
 */
import { z } from "zod";
import { LIMITS } from "../config.ts";

/** True when `value` nests no deeper than `limit` levels of arrays and objects. */
export function nestsWithin(value: unknown, limit: number): boolean {
  const stack: [unknown, number][] = [[value, 1]];
  while (stack.length > 0) {
    const [current, depth] = stack.pop() as [unknown, number];
    if (current === null || typeof current !== "object") continue;
    if (depth > limit) return false;
    for (const child of Object.values(current)) {
      stack.push([child, depth + 1]);
    }
  }
  return true;
}

export const fieldTableSchema = z
  .record(z.string(), z.unknown())
  .refine((table) => nestsWithin(table, LIMITS.maxTableDepth), {
    message: `field table nests deeper than ${LIMITS.maxTableDepth} levels`,
  });

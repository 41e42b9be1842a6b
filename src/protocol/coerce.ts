/**
 * Fields the RabbitMQ management API accepts either typed or as strings, because its own
 * rabbitmqadmin (and npm clients such as rabbitmq-admin) send them as strings:
 * `"durable": "true"`, `"count": "1"`, `"truncate": "50000"`. Checked against RabbitMQ 3.10:
 * booleans accept `true`/`false` and the strings "true"/"false" (anything else is
 * `not_boolean`); integers accept numbers and decimal strings (anything else is `not_integer`).
 * RabbitMQ does not coerce elsewhere (vhost limits, queue arguments, message properties such as
 * `priority` or `delivery_mode` refuse strings), so neither does this broker.
 *
 * The message of each schema is the code the 400 reason names (src/api/body.ts).
 */
import { z } from "zod";

/** A boolean, or "true" / "false". */
export const flag = z.union([z.boolean(), z.stringbool({ truthy: ["true"], falsy: ["false"] })], {
  error: "not_boolean",
});

/** An integer, or a string of decimal digits; bounds apply to the number. */
export function integer(bounds: { min?: number; max?: number } = {}) {
  let number = z.number().int();
  if (bounds.min !== undefined) number = number.min(bounds.min);
  if (bounds.max !== undefined) number = number.max(bounds.max);
  return z
    .union(
      [
        z.number().int(),
        z
          .string()
          .regex(/^-?\d{1,15}$/)
          .transform(Number),
      ],
      {
        error: "not_integer",
      },
    )
    .pipe(number);
}

/**
 * A queue's policy: its declaration's arguments (x-message-ttl, x-dead-letter-*, x-max-length*,
 * x-overflow, x-single-active-consumer, x-delivery-limit, x-expires, x-max-priority) and the
 * policy applied to it, resolved as RabbitMQ 3.10 does (rabbit_amqqueue_process:
 * process_args_policy): where both set a limit (message-ttl, expires, max-length,
 * max-length-bytes, delivery-limit) the lower wins; for the dead-letter exchange and routing key
 * and for overflow, the argument wins over the policy. `max-priority` is an argument only. The
 * applied policy's definition already merges the operator policy (src/catalog/policies.ts).
 * Arguments of the wrong type are ignored, as if absent.
 */
import type { QueueDeclaration } from "../protocol/declarations";
import { type AppliedPolicy, NO_POLICY } from "../protocol/policies";
import { isOverflowMode } from "./overflow";
import type { QueuePolicy } from "./queue-engine";

function number(value: unknown): number | undefined {
  return typeof value === "number" ? value : undefined;
}

function text(value: unknown): string | undefined {
  return typeof value === "string" ? value : undefined;
}

/** The lower of argument and policy, either alone, or undefined. */
function lower(argument: unknown, policy: unknown): number | undefined {
  const a = number(argument);
  const p = number(policy);
  if (a === undefined) return p;
  return p === undefined ? a : Math.min(a, p);
}

export function queuePolicy(
  declaration: QueueDeclaration | null,
  applied: AppliedPolicy = NO_POLICY,
): QueuePolicy {
  const args = declaration?.arguments ?? {};
  const policy = applied.definition;
  const dlx = text(args["x-dead-letter-exchange"]) ?? text(policy["dead-letter-exchange"]);
  const dlrk = text(args["x-dead-letter-routing-key"]) ?? text(policy["dead-letter-routing-key"]);
  const overflow = args["x-overflow"] ?? policy.overflow;
  return {
    maxLength: lower(args["x-max-length"], policy["max-length"]),
    maxLengthBytes: lower(args["x-max-length-bytes"], policy["max-length-bytes"]),
    overflow: isOverflowMode(overflow) ? overflow : "drop-head",
    deadLetter: dlx === undefined ? undefined : { exchange: dlx, routingKey: dlrk },
    messageTtl: lower(args["x-message-ttl"], policy["message-ttl"]),
    singleActiveConsumer: args["x-single-active-consumer"] === true,
    deliveryLimit: lower(args["x-delivery-limit"], policy["delivery-limit"]),
    expires: lower(args["x-expires"], policy.expires),
    // An argument only, as in RabbitMQ (a policy cannot make a queue a priority queue).
    maxPriority: number(args["x-max-priority"]),
  };
}

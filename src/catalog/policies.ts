/**
 * Which policy applies to a queue, as RabbitMQ 3.10 decides (rabbit_policy): of the policies whose
 * pattern matches the queue's name and that apply to queues (`queues` or `all`), the one with the
 * highest priority, alone (definitions are not merged across policies; equal priorities: the
 * first by name, where RabbitMQ leaves it undefined). The same for operator policies; then the
 * effective definition merges both, and where both set a limit the lower wins (an operator
 * policy can lower a limit, never raise it).
 */
import {
  type AppliedPolicy,
  MINIMUM_SETTINGS,
  NO_POLICY,
  type Policy,
  type PolicyDefinition,
} from "../protocol/policies";

export type PatternTest = (pattern: string, name: string) => boolean;

/** The policy of highest priority among those matching a queue named `queue`, or null. */
export function matchQueuePolicy(
  policies: readonly Policy[],
  queue: string,
  matches: PatternTest,
): Policy | null {
  let best: Policy | null = null;
  for (const policy of policies) {
    if (policy["apply-to"] === "exchanges") continue;
    if (!matches(policy.pattern, queue)) continue;
    if (
      best === null ||
      policy.priority > best.priority ||
      (policy.priority === best.priority && policy.name < best.name)
    ) {
      best = policy;
    }
  }
  return best;
}

/** RabbitMQ's effective definition: the policy's, with the operator policy's limits lowering it. */
export function effectiveDefinition(
  policy: Policy | null,
  operator: Policy | null,
): PolicyDefinition {
  const merged: Record<string, number | string> = { ...(policy?.definition ?? {}) };
  for (const [key, value] of Object.entries(operator?.definition ?? {})) {
    const own = merged[key];
    merged[key] =
      MINIMUM_SETTINGS.has(key) && typeof own === "number" && typeof value === "number"
        ? Math.min(own, value)
        : value;
  }
  return Object.fromEntries(
    Object.entries(merged).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
  );
}

export function applyPolicies(
  policies: readonly Policy[],
  operatorPolicies: readonly Policy[],
  queue: string,
  matches: PatternTest,
): AppliedPolicy {
  const policy = matchQueuePolicy(policies, queue, matches);
  const operator = matchQueuePolicy(operatorPolicies, queue, matches);
  if (policy === null && operator === null) return NO_POLICY;
  return {
    policy: policy?.name ?? null,
    operatorPolicy: operator?.name ?? null,
    definition: effectiveDefinition(policy, operator),
  };
}

/**
 * A vhost's policies in its catalog: stored, listed, and applied to its queues at once when one
 * is set or deleted (each queue object whose applied policy changes is told), and to a queue
 * when it is declared. Which policy applies is src/catalog/policies.ts.
 */
import { compileBoundedRegex, isRegexFailure } from "../access/bounded-regex";
import type { QueueDeclaration } from "../protocol/declarations";
import { type AppliedPolicy, NO_POLICY, type Policy, type PolicyKind } from "../protocol/policies";
import { isStreamDeclaration } from "../protocol/stream";
import type { PolicyStore } from "../storage/policy-store";
import { applyPolicies, type PatternTest } from "./policies";

/** Queue objects told of a change at once. */
const PUSH_CHUNK = 32;

/** Longest pattern accepted (RE2 compiles it; src/access/bounded-regex.ts). */
export const MAX_PATTERN_LENGTH = 1024;

/** A policy's pattern against a queue name: RE2, searched anywhere in the name as PCRE's re:run. */
export const patternMatches: PatternTest = (pattern, name) => {
  const compiled = compileBoundedRegex(pattern, {
    maxLength: MAX_PATTERN_LENGTH,
    what: "pattern",
  });
  return !isRegexFailure(compiled) && compiled.test(name);
};

/** Why a pattern cannot be used, or null. */
export function patternProblem(pattern: string): string | null {
  const compiled = compileBoundedRegex(pattern, {
    maxLength: MAX_PATTERN_LENGTH,
    what: "pattern",
  });
  return isRegexFailure(compiled) ? compiled.reason : null;
}

export type PushPolicy = (queue: QueueDeclaration, applied: AppliedPolicy) => Promise<void>;

export class PolicyCatalog {
  constructor(
    private readonly store: PolicyStore,
    private readonly queues: () => QueueDeclaration[],
    private readonly push: PushPolicy,
  ) {}

  list(kind: PolicyKind): Policy[] {
    return this.store.list(kind);
  }

  get(kind: PolicyKind, name: string): Policy | undefined {
    return this.store.get(kind, name);
  }

  /** What applies to a queue of this name now. */
  appliedTo(queue: string): AppliedPolicy {
    if (!this.store.any()) return NO_POLICY;
    return this.applier()(queue);
  }

  /** What applies to each name, the policies read once. */
  private applier(): (queue: string) => AppliedPolicy {
    const policies = this.store.list("policy");
    const operatorPolicies = this.store.list("operator_policy");
    return (queue) => applyPolicies(policies, operatorPolicies, queue, patternMatches);
  }

  async put(kind: PolicyKind, policy: Policy): Promise<{ created: boolean }> {
    const created = this.store.get(kind, policy.name) === undefined;
    await this.changing(() => this.store.put(kind, policy));
    return { created };
  }

  async delete(kind: PolicyKind, name: string): Promise<boolean> {
    if (this.store.get(kind, name) === undefined) return false;
    await this.changing(() => this.store.delete(kind, name));
    return true;
  }

  clear(): void {
    for (const kind of ["policy", "operator_policy"] as const) {
      for (const policy of this.store.list(kind)) this.store.delete(kind, policy.name);
    }
  }

  /** Makes a change and tells each queue whose applied policy it changes, a chunk at a time. */
  private async changing(change: () => void): Promise<void> {
    const queues = this.queues().filter((q) => !isStreamDeclaration(q.arguments));
    const old = this.applier();
    const before = new Map(queues.map((q) => [q.name, JSON.stringify(old(q.name))]));
    change();
    const now = this.applier();
    const changed: [QueueDeclaration, AppliedPolicy][] = [];
    for (const queue of queues) {
      const applied = now(queue.name);
      if (JSON.stringify(applied) !== before.get(queue.name)) changed.push([queue, applied]);
    }
    for (let i = 0; i < changed.length; i += PUSH_CHUNK) {
      await Promise.all(
        changed.slice(i, i + PUSH_CHUNK).map(([queue, applied]) => this.push(queue, applied)),
      );
    }
  }
}

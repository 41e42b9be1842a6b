/**
 * Failed-login throttling per user name: the first few failures are free (typos happen), then
 * each further failure doubles the time during which every attempt for that name, right or
 * wrong, is refused with 429 and Retry-After. A success clears the count. Pure arithmetic; the
 * registry object keeps the counts.
 */
import { LIMITS } from "../config";

export interface FailureRecord {
  readonly failures: number;
  readonly blockedUntil: number;
}

export function afterFailure(previous: FailureRecord | undefined, now: number): FailureRecord {
  const failures = (previous?.failures ?? 0) + 1;
  const over = failures - LIMITS.loginFailuresAllowed;
  if (over <= 0) return { failures, blockedUntil: 0 };
  const delay = Math.min(LIMITS.loginBlockBaseMs * 2 ** (over - 1), LIMITS.loginBlockMaxMs);
  return { failures, blockedUntil: now + delay };
}

/** Milliseconds the name is still blocked for (0 when it is not). */
export function blockedFor(record: FailureRecord | undefined, now: number): number {
  return record && record.blockedUntil > now ? record.blockedUntil - now : 0;
}

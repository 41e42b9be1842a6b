// What every benchmark shares: the loopback host, the guest login, the run's length settings,
// and small helpers for time and numbers. Node built-ins only.

export const HOST = "127.0.0.1";
/** The login every broker and RabbitMQ node started here accepts (administrator). */
export const AUTH = `Basic ${Buffer.from("guest:guest").toString("base64")}`;
// BENCH_QUICK=1: a short run (one attempt per scenario, a short wait for a quiet machine), for
// trying the scripts out; the figures of a full run need the defaults.
export const QUICK = process.env.BENCH_QUICK === "1";
export const QUIET_WAIT_MS = QUICK ? 2_000 : 30_000;
export const QUIET_BUSY_PCT = 25; // % of one core
export const MAX_ATTEMPTS = QUICK ? 1 : 3;

export function sleep(ms) {
  return new Promise((r) => setTimeout(r, ms));
}

export function percentile(sorted, p) {
  if (sorted.length === 0) return null;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i];
}

export function fmt(n, digits = 0) {
  if (n === null || n === undefined || Number.isNaN(n)) return "–";
  if (Math.abs(n) < 0.5 * 10 ** -digits) n = 0; // no "-0.00"
  return n.toLocaleString("en-US", {
    minimumFractionDigits: digits,
    maximumFractionDigits: digits,
  });
}

/** The median; of an even count, the mean of the two middle values. */
export function median(values) {
  const s = [...values].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

/** The middle value; of an even count, the upper of the two (always a value that was seen). */
export function middle(values) {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

/** Resolves `promise`, or rejects after `ms` with `what` in the message. */
export function withTimeout(promise, ms, what) {
  let timer;
  return Promise.race([
    promise,
    new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

/** A number from the environment within [min, max], else `fallback`; exits 2 when out of range. */
export function numberEnv(name, fallback, min, max) {
  const raw = process.env[name];
  if (raw === undefined || raw === "") return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < min || n > max) {
    console.error(`${name} must be a number in [${min}, ${max}], got '${raw}'`);
    process.exit(2);
  }
  return n;
}

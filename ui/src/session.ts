/**
 * The signed-in user. The password lives only in this module's memory, for the HTTP Basic header
 * of each API call (the management API's one way to authenticate): never in localStorage,
 * sessionStorage, a cookie, the DOM or a URL. The session ends on logout, after IDLE_MS without
 * input, on a 401 from the API, and when the page is reloaded or closed. With no cookie there is
 * no ambient credential a cross-site request could ride on, so there is nothing for CSRF to use.
 */

export const IDLE_MS = 15 * 60 * 1000;

export interface User {
  readonly name: string;
  readonly tags: readonly string[];
}

interface Session {
  readonly user: User;
  readonly authorization: string;
}

let current: Session | null = null;
let idleTimer: ReturnType<typeof setTimeout> | undefined;
let endReason = "";
const listeners = new Set<() => void>();

/** The Basic header for a name and password (UTF-8, as RabbitMQ decodes it). */
export function basicAuthorization(name: string, password: string): string {
  const bytes = new TextEncoder().encode(`${name}:${password}`);
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return `Basic ${btoa(binary)}`;
}

export function start(user: User, authorization: string): void {
  current = { user, authorization };
  endReason = "";
  touch();
  notify();
}

export function end(reason = ""): void {
  current = null;
  endReason = reason;
  clearTimeout(idleTimer);
  notify();
}

export const user = (): User | null => current?.user ?? null;
export const authorization = (): string | null => current?.authorization ?? null;
export const lastEndReason = (): string => endReason;
export const isAdministrator = (): boolean => current?.user.tags.includes("administrator") ?? false;

/** Any input postpones the idle end. */
export function touch(): void {
  if (!current) return;
  clearTimeout(idleTimer);
  idleTimer = setTimeout(() => end("Signed out after 15 minutes without activity."), IDLE_MS);
}

export function subscribe(listener: () => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

function notify(): void {
  for (const listener of listeners) listener();
}

for (const event of ["pointerdown", "keydown"]) {
  addEventListener(event, touch, { passive: true });
}

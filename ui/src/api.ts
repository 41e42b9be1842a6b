/**
 * The UI's only way to the broker: the public management API, authenticated with the session's
 * Basic header. Errors arrive as the API's `{"error","reason"}` and become ApiError; a 401 ends
 * the session (wrong password, deleted user, changed password).
 */
import * as session from "./session";

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    readonly reason: string,
  ) {
    super(reason || code || `HTTP ${status}`);
  }
}

/** A name as one path segment (the vhost `/` is `%2F`). */
export const seg = (name: string): string => encodeURIComponent(name);

export async function request<T>(
  method: string,
  path: string,
  body?: unknown,
  authorization: string | null = session.authorization(),
): Promise<T> {
  const headers: Record<string, string> = { Accept: "application/json" };
  if (authorization) headers.Authorization = authorization;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const response = await fetch(path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    // Never let the browser add or remember credentials of its own.
    credentials: "omit",
    cache: "no-store",
  });
  const text = await response.text();
  let data: unknown = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = null;
  }
  if (!response.ok) {
    const error = (data ?? {}) as { error?: string; reason?: string; message?: string };
    const failure = new ApiError(
      response.status,
      error.error ?? "",
      error.reason ?? error.message ?? response.statusText,
    );
    if (response.status === 401 && authorization === session.authorization()) {
      session.end(`Signed out: ${failure.reason}`);
    }
    throw failure;
  }
  return data as T;
}

export const get = <T>(path: string) => request<T>("GET", path);
export const put = (path: string, body: unknown) => request<unknown>("PUT", path, body);
export const post = <T = unknown>(path: string, body: unknown) => request<T>("POST", path, body);
export const del = (path: string) => request<unknown>("DELETE", path);

/** A list page as the API answers it with `page`. */
export interface Paged<T> {
  readonly filtered_count: number;
  readonly item_count: number;
  readonly items: T[];
  readonly page: number;
  readonly page_count: number;
  readonly page_size: number;
  readonly total_count: number;
}

export type Rate = { rate: number };
export type MessageStats = Partial<Record<string, number | Rate>>;

export interface QueueInfo {
  name: string;
  vhost: string;
  durable: boolean;
  auto_delete: boolean;
  arguments: Record<string, unknown>;
  messages: number;
  messages_ready: number;
  messages_unacknowledged: number;
  consumers: number;
  message_bytes?: number;
  message_stats?: MessageStats;
}

export interface ExchangeInfo {
  name: string;
  vhost: string;
  type: string;
  durable: boolean;
  auto_delete: boolean;
  internal: boolean;
  arguments: Record<string, unknown>;
  message_stats?: MessageStats;
  /** A delayed exchange's held messages (x-delayed-message). */
  messages_delayed?: number;
}

export interface BindingInfo {
  source: string;
  vhost: string;
  destination: string;
  destination_type: string;
  routing_key: string;
  arguments: Record<string, unknown>;
  properties_key: string;
}

export interface Overview {
  product_name: string;
  product_version: string;
  management_version: string;
  object_totals: Record<string, number>;
  queue_totals: Record<string, number>;
  message_stats: MessageStats;
}

export const count = (stats: MessageStats | undefined, event: string): number => {
  const value = stats?.[event];
  return typeof value === "number" ? value : 0;
};

export const rate = (stats: MessageStats | undefined, event: string): number => {
  const value = stats?.[`${event}_details`];
  return typeof value === "object" ? value.rate : 0;
};

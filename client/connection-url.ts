/**
 * Connection URLs in the form RabbitMQ clients use, over HTTP(S):
 * `https://user:password@host[:port]/vhost`. The path is the URL-encoded vhost; an empty path is
 * the default vhost `/` (as in an AMQP URI, where `amqp://host` and `amqp://host/%2F` both mean `/`).
 */
export interface ConnectionInfo {
  /** `http(s)://host:port`, without credentials. */
  readonly origin: string;
  readonly vhost: string;
  readonly user: string;
  /** The `Authorization` header value (HTTP Basic). */
  readonly authorization: string;
}

export function parseConnectionUrl(url: string): ConnectionInfo {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new TypeError(`not a URL: ${url}`);
  }
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:") {
    throw new TypeError(`connection URLs are http: or https:, not ${parsed.protocol}`);
  }
  const user = decodeURIComponent(parsed.username);
  const password = decodeURIComponent(parsed.password);
  if (user === "") throw new TypeError("the connection URL has no user name");
  const path = parsed.pathname.replace(/^\//, "");
  const vhost = path === "" ? "/" : decodeURIComponent(path);
  const bytes = new TextEncoder().encode(`${user}:${password}`);
  const authorization = `Basic ${btoa(String.fromCharCode(...bytes))}`;
  return { origin: parsed.origin, vhost, user, authorization };
}

/** The WebSocket origin (`ws:`/`wss:`) for an HTTP origin. */
export function socketOrigin(origin: string): string {
  return origin.replace(/^http/, "ws");
}

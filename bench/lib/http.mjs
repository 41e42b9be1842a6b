// HTTP clients of the benchmarks: node:http over keep-alive agents for load (lighter on the
// shared 2 cores than fetch), and fetch for setup calls and the occasional read.

import http from "node:http";
import { AUTH, HOST } from "./common.mjs";

const REQUEST_TIMEOUT_MS = 30_000;

/**
 * One request to 127.0.0.1:`port` through `agent`; `body` is JSON (an object) or a string sent
 * as is. Answers { status, text } whatever the status; rejects on a network error or after
 * `timeoutMs` without an answer. `authorization` goes in the Authorization header when given.
 */
export function request(
  agent,
  port,
  method,
  urlPath,
  body,
  { authorization, timeoutMs = REQUEST_TIMEOUT_MS } = {},
) {
  return new Promise((resolve, reject) => {
    const headers = { Accept: "application/json" };
    if (authorization) headers.Authorization = authorization;
    let payload = null;
    if (body !== null && body !== undefined) {
      payload = typeof body === "string" ? Buffer.from(body) : Buffer.from(JSON.stringify(body));
      headers["Content-Type"] = "application/json";
      headers["Content-Length"] = payload.length;
    }
    const req = http.request({ host: HOST, port, method, path: urlPath, headers, agent }, (res) => {
      const chunks = [];
      res.on("data", (c) => chunks.push(c));
      res.on("end", () =>
        resolve({ status: res.statusCode, text: Buffer.concat(chunks).toString("utf8") }),
      );
      res.on("error", reject);
    });
    req.setTimeout(timeoutMs, () =>
      req.destroy(new Error(`${method} ${urlPath}: timeout after ${timeoutMs} ms`)),
    );
    req.on("error", reject);
    req.end(payload ?? undefined);
  });
}

/**
 * One JSON call with fetch to `base` + `urlPath` (guest's login unless `authorization` says
 * otherwise). Answers { status, text, body } (body: the parsed JSON, null when empty) whatever
 * the status (body is parsed when read).
 */
export async function fetchJson(
  base,
  method,
  urlPath,
  body,
  { authorization = AUTH, timeoutMs } = {},
) {
  const response = await fetch(`${base}${urlPath}`, {
    method,
    headers: {
      Authorization: authorization,
      Accept: "application/json",
      ...(body === undefined ? {} : { "Content-Type": "application/json" }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: timeoutMs === undefined ? undefined : AbortSignal.timeout(timeoutMs),
  });
  const text = await response.text();
  return {
    status: response.status,
    text,
    get body() {
      return text ? JSON.parse(text) : null;
    },
  };
}

/**
 * fetchJson that expects one of the `expect` statuses (default: any 2xx) and answers the parsed
 * body; any other status throws with the answer's start in the message.
 */
export async function callApi(base, method, urlPath, body, { expect, ...options } = {}) {
  const r = await fetchJson(base, method, urlPath, body, options);
  const ok = expect ? expect.includes(r.status) : r.status >= 200 && r.status < 300;
  if (!ok) throw new Error(`${method} ${urlPath} answered ${r.status}: ${r.text.slice(0, 300)}`);
  return r.body;
}

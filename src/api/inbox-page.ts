/**
 * GET /notifications/:userID/page: a small page showing one user's live inbox (badge, list, mark
 * read), so a person can watch notifications arrive. The page itself holds no data and needs no
 * credentials; its calls do: in local development none, otherwise a user token passed in the
 * fragment (`#token=...`, never sent to the server in the page request).
 *
 * It builds every element with textContent (never innerHTML), so a notification's text cannot
 * inject markup; the Content-Security-Policy allows only this page's own inline code and
 * connections to this origin.
 */
import type { Hono } from "hono";
import { BrokerError } from "../errors";
import { parseUserId } from "../protocol/notification";
import type { AppEnv } from "./context";
import { resource } from "./routes";

const PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Inbox</title>
<style>
  body { font: 15px/1.4 system-ui, sans-serif; margin: 0 auto; max-width: 40rem; padding: 1rem; }
  header { display: flex; align-items: center; gap: .75rem; }
  h1 { font-size: 1.25rem; margin: 0; }
  #badge { background: #c62828; border-radius: 1rem; color: #fff; min-width: 1.5rem; padding: 0 .5rem; text-align: center; }
  #badge[data-count="0"] { background: #9e9e9e; }
  #status { color: #666; font-size: .85rem; margin-left: auto; }
  ul { list-style: none; padding: 0; }
  li { border-bottom: 1px solid #eee; display: flex; gap: .5rem; padding: .6rem 0; }
  li.unread .text { font-weight: 600; }
  li .meta { color: #666; font-size: .8rem; }
  li .text { flex: 1; }
  button { cursor: pointer; }
</style>
</head>
<body>
<header>
  <h1 id="title">Inbox</h1>
  <span id="badge" data-count="0" title="unread">0</span>
  <button id="mark-all" type="button">Mark all read</button>
  <span id="status">connecting…</span>
</header>
<ul id="list"></ul>
<p id="empty">No notifications yet.</p>
<script>
(() => {
  const userId = location.pathname.split("/")[2];
  const token = new URLSearchParams(location.hash.slice(1)).get("token");
  const headers = token ? { Authorization: "Bearer " + token } : {};
  const list = document.getElementById("list");
  const badge = document.getElementById("badge");
  const status = document.getElementById("status");
  const items = new Map();
  let cursor = null;
  let socket = null;
  let retry = 500;

  function setCounts(counts) {
    badge.textContent = String(counts.unread);
    badge.dataset.count = String(counts.unread);
  }
  function render(n) {
    let li = items.get(n.id);
    if (!li) {
      li = document.createElement("li");
      li.dataset.id = String(n.id);
      const text = document.createElement("span");
      text.className = "text";
      const meta = document.createElement("div");
      meta.className = "meta";
      const button = document.createElement("button");
      button.type = "button";
      button.className = "mark-read";
      button.textContent = "Mark read";
      button.addEventListener("click", () => send({ type: "mark_read", ids: [n.id] }));
      const body = document.createElement("div");
      body.className = "text";
      body.append(text, meta);
      li.append(body, button);
      items.set(n.id, li);
      const newer = [...list.children].find((el) => Number(el.dataset.id) < n.id);
      list.insertBefore(li, newer ?? null);
    }
    li.querySelector("span.text").textContent = n.message;
    li.querySelector(".meta").textContent =
      (n.from ? "from " + n.from.name + " · " : "") + new Date(n.created_at).toLocaleString();
    li.classList.toggle("unread", n.read_at === null);
    li.querySelector("button").hidden = n.read_at !== null;
    li.hidden = n.archived_at !== null;
    document.getElementById("empty").hidden = list.querySelector("li:not([hidden])") !== null;
    li.notification = n;
  }
  function apply(change) {
    const targets = change.ids === "all" ? [...items.keys()] : change.ids;
    for (const id of targets) {
      const li = items.get(id);
      if (!li) continue;
      const n = { ...li.notification };
      if (change.state === "read") { n.read_at ??= change.at; n.seen_at ??= change.at; }
      if (change.state === "seen") n.seen_at ??= change.at;
      if (change.state === "archived") n.archived_at ??= change.at;
      render(n);
    }
  }
  function send(frame) {
    if (socket && socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify(frame));
  }
  function connect() {
    const url = new URL("/notifications/" + userId + "/live", location.href);
    url.protocol = location.protocol === "https:" ? "wss:" : "ws:";
    if (cursor !== null) url.searchParams.set("after", cursor);
    if (token) url.searchParams.set("token", token);
    socket = new WebSocket(url);
    socket.onmessage = (event) => {
      const frame = JSON.parse(event.data);
      if (frame.type === "hello") {
        status.textContent = "live";
        retry = 500;
        document.getElementById("title").textContent = frame.user.name + "'s inbox";
        setCounts(frame.counts);
        if (frame.resync) { items.clear(); list.replaceChildren(); load(); }
        cursor ??= frame.cursor;
      } else if (frame.type === "notification") {
        render(frame.notification);
        setCounts(frame.counts);
        cursor = frame.cursor;
      } else if (frame.type === "state") {
        apply(frame);
        setCounts(frame.counts);
      }
    };
    socket.onclose = () => {
      status.textContent = "reconnecting…";
      setTimeout(connect, retry);
      retry = Math.min(retry * 2, 10000);
    };
  }
  async function load() {
    const answer = await fetch("/notifications/" + userId + "/inbox?limit=50", { headers });
    if (!answer.ok) {
      status.textContent = (await answer.json()).message;
      return false;
    }
    const page = await answer.json();
    for (const n of page.notifications) render(n);
    setCounts(page.counts);
    cursor = page.cursors.after ?? cursor;
    return true;
  }
  document.getElementById("mark-all").addEventListener("click", () => send({ type: "mark_all_read" }));
  load().then((ok) => {
    if (ok) {
      cursor ??= "0";
      connect();
    }
  });
})();
</script>
</body>
</html>
`;

export function inboxPageRoutes(app: Hono<AppEnv>): void {
  resource(app, "/notifications/:userID/page", {
    GET: (c) => {
      if (parseUserId(c.req.param("userID")) === null) {
        throw new BrokerError("not_found", "User not found");
      }
      c.header(
        "Content-Security-Policy",
        "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'",
      );
      c.header("X-Content-Type-Options", "nosniff");
      c.header("Referrer-Policy", "no-referrer");
      return c.html(PAGE);
    },
  });
}

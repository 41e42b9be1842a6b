/** The frame around every page: login, the menu, the vhost selector, who am I, log out. */
import { useEffect, useState } from "preact/hooks";
import { get } from "./api";
import { useApi } from "./hooks";
import { PAGES } from "./pages/index";
import { LoginPage } from "./pages/login";
import { href, useRoute } from "./router";
import * as session from "./session";
import { selectVhost, useSelectedVhost } from "./state";

function useSession(): session.User | null {
  const [user, setUser] = useState(session.user());
  useEffect(() => session.subscribe(() => setUser(session.user())), []);
  return user;
}

function VhostSelector() {
  const vhost = useSelectedVhost();
  const { data } = useApi(() => get<{ name: string }[]>("/api/vhosts"), []);
  return (
    <label class="vhost-select">
      Virtual host{" "}
      <select
        name="vhost"
        value={vhost}
        onChange={(event) => selectVhost((event.target as HTMLSelectElement).value)}
      >
        <option value="">All</option>
        {(data ?? []).map((v) => (
          <option key={v.name} value={v.name}>
            {v.name}
          </option>
        ))}
      </select>
    </label>
  );
}

export function App() {
  const user = useSession();
  const route = useRoute();
  if (!user) return <LoginPage />;
  const admin = session.isAdministrator();
  const visible = PAGES.filter((page) => admin || !page.admin);
  const [path = "overview", ...args] = route;
  const page = PAGES.find((p) => p.path === path);
  const allowed = page && (admin || !page.admin);
  const View = page && allowed ? (args.length > 0 && page.detail ? page.detail : page.list) : null;
  return (
    <div class="layout">
      <header>
        <strong class="brand">workers-broker</strong>
        <nav aria-label="pages">
          {visible.map((p) => (
            <a key={p.path} href={href(p.path)} class={p.path === path ? "active" : undefined}>
              {p.title}
            </a>
          ))}
        </nav>
        <VhostSelector />
        <span class="whoami" data-testid="whoami">
          {user.name}
          {user.tags.length > 0 ? ` (${user.tags.join(", ")})` : ""}
        </span>
        <button type="button" class="logout" onClick={() => session.end("You are signed out.")}>
          Log out
        </button>
      </header>
      <main>
        {View ? (
          <View args={args} />
        ) : (
          <p class="notice error" role="alert">
            {page ? "This page is for administrators." : "No such page."}
          </p>
        )}
      </main>
    </div>
  );
}

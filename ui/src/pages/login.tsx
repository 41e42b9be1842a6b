/**
 * Sign in with a broker user. The credentials are checked with GET /api/whoami (the management
 * API's own login) and kept only in memory (session.ts).
 */
import { useState } from "preact/hooks";
import { request } from "../api";
import { Text } from "../components/fields";
import { Notice } from "../components/notice";
import * as session from "../session";

const MANAGEMENT_TAGS = ["management", "policymaker", "monitoring", "administrator"];

export function LoginPage() {
  const [name, setName] = useState("");
  const [password, setPassword] = useState("");
  const [error, setError] = useState("");
  const [busy, setBusy] = useState(false);
  const ended = session.lastEndReason();

  const submit = async (event: Event) => {
    event.preventDefault();
    setBusy(true);
    setError("");
    const authorization = session.basicAuthorization(name, password);
    try {
      const me = await request<{ name: string; tags: string[] | string }>(
        "GET",
        "/api/whoami",
        undefined,
        authorization,
      );
      const tags = Array.isArray(me.tags) ? me.tags : me.tags.split(",").filter(Boolean);
      if (!tags.some((tag) => MANAGEMENT_TAGS.includes(tag))) {
        // As RabbitMQ's UI: a user without a management tag uses the broker, not the UI.
        throw new Error(
          `'${me.name}' is not a management user: give it the management, policymaker, monitoring or administrator tag`,
        );
      }
      setPassword("");
      session.start({ name: me.name, tags }, authorization);
      if (!location.hash) location.hash = "#/overview";
    } catch (failure) {
      setError(failure instanceof Error ? failure.message : String(failure));
    } finally {
      setBusy(false);
    }
  };

  return (
    <main class="login">
      <h1>workers-broker</h1>
      <form onSubmit={submit} data-testid="login-form">
        <Text label="Username" name="username" value={name} onInput={setName} required />
        <Text
          label="Password"
          name="password"
          type="password"
          value={password}
          onInput={setPassword}
          required
        />
        <button type="submit" disabled={busy}>
          Log in
        </button>
      </form>
      <Notice
        message={
          error ? { kind: "error", text: error } : ended ? { kind: "ok", text: ended } : null
        }
      />
    </main>
  );
}

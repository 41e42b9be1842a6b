/**
 * A message payload in three views: text (UTF-8), JSON pretty-printed (when it parses), and
 * base64 (always, for binary). Everything is rendered as text: a payload holding markup shows
 * the markup, it never becomes part of the page.
 */
import { useState } from "preact/hooks";

type View = "text" | "json" | "base64";

function toBytes(payload: string, encoding: string): Uint8Array {
  if (encoding === "base64") {
    const binary = atob(payload);
    const bytes = new Uint8Array(binary.length);
    for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
    return bytes;
  }
  return new TextEncoder().encode(payload);
}

function toBase64(bytes: Uint8Array): string {
  let binary = "";
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary);
}

export function PayloadView({ payload, encoding }: { payload: string; encoding: string }) {
  const bytes = toBytes(payload, encoding);
  let text: string | null = null;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    text = null;
  }
  let json: string | null = null;
  if (text !== null) {
    try {
      json = JSON.stringify(JSON.parse(text), null, 2);
    } catch {
      json = null;
    }
  }
  const [view, setView] = useState<View>(
    json !== null ? "json" : text !== null ? "text" : "base64",
  );
  const views: [View, string, boolean][] = [
    ["text", "Text", text !== null],
    ["json", "JSON", json !== null],
    ["base64", "Base64", true],
  ];
  const shown = view === "json" ? json : view === "text" ? text : toBase64(bytes);
  return (
    <div class="payload">
      <div class="views" role="tablist">
        {views.map(([key, label, enabled]) => (
          <button
            key={key}
            type="button"
            role="tab"
            aria-selected={view === key}
            disabled={!enabled}
            onClick={() => setView(key)}
          >
            {label}
          </button>
        ))}
      </div>
      <pre class="payload-body" data-view={view}>
        {shown ?? ""}
      </pre>
    </div>
  );
}

/**
 * Names, keys and every other string a client sends must be well-formed Unicode. JSON allows a
 * lone UTF-16 surrogate as an escape ("k\ud800"); JavaScript keeps it in memory, but SQLite stores
 * text as UTF-8 and turns it into U+FFFD, so a routing key or a name would match one thing before
 * a restart and another after. Such input is refused (400) where it enters: request bodies
 * (src/api/body.ts), WebSocket frames (src/protocol/frames.ts) and names (src/protocol/names.ts).
 */

const strictUtf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/** Decodes UTF-8, or answers null for bytes that are not UTF-8. */
export function decodeUtf8(bytes: ArrayBuffer | Uint8Array): string | null {
  try {
    return strictUtf8.decode(bytes);
  } catch {
    return null;
  }
}

/**
 * A lone surrogate can reach a parsed value only through a `\uD800`-`\uDFFF` escape (or the text
 * itself): texts without one need no walk, which keeps large bodies cheap.
 */
const SURROGATE_ESCAPE = /\\u[dD][89a-fA-F]/;

/**
 * Where a parsed JSON value holds a string (or an object key) that is not well-formed Unicode:
 * a path such as "messages.3.routing_key", "" for the value itself, or null when there is none.
 */
export function findIllFormed(text: string, value: unknown): string | null {
  if (!text.isWellFormed()) return "";
  if (!SURROGATE_ESCAPE.test(text)) return null;
  return walk(value, []);
}

function walk(value: unknown, path: string[]): string | null {
  if (typeof value === "string") return value.isWellFormed() ? null : path.join(".");
  if (value === null || typeof value !== "object") return null;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const found = walk(value[i], [...path, String(i)]);
      if (found !== null) return found;
    }
    return null;
  }
  for (const [key, item] of Object.entries(value)) {
    if (!key.isWellFormed()) return [...path, "(key)"].join(".");
    const found = walk(item, [...path, key]);
    if (found !== null) return found;
  }
  return null;
}

export function illFormedReason(where: string): string {
  return where === ""
    ? "text is not well-formed Unicode (a lone UTF-16 surrogate)"
    : `${where}: not well-formed Unicode (a lone UTF-16 surrogate)`;
}

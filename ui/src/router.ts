/**
 * Hash routes (`#/queues/%2F/orders`): the page is one document, so a reload or a shared link
 * lands on the same view without the server knowing any UI path. Segments are URL-encoded.
 */
import { useEffect, useState } from "preact/hooks";

export function parseHash(hash: string): string[] {
  return hash
    .replace(/^#\/?/, "")
    .replace(/\?.*$/, "")
    .split("/")
    .filter((part) => part !== "")
    .map((part) => {
      try {
        return decodeURIComponent(part);
      } catch {
        return part;
      }
    });
}

/** `href("queues", "/", "orders")` is `#/queues/%2F/orders`. */
export const href = (...segments: string[]): string =>
  `#/${segments.map((segment) => encodeURIComponent(segment)).join("/")}`;

export function navigate(...segments: string[]): void {
  location.hash = href(...segments);
}

export function useRoute(): string[] {
  const [route, setRoute] = useState(() => parseHash(location.hash));
  useEffect(() => {
    const update = () => setRoute(parseHash(location.hash));
    addEventListener("hashchange", update);
    return () => removeEventListener("hashchange", update);
  }, []);
  return route;
}

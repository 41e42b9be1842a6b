/**
 * GET /: the management UI's page (ui/, built into dist/ui and served as static assets). The
 * Worker serves the page itself so that its security headers hold however the Worker runs
 * (wrangler dev, Miniflare from the wrangler config, a deploy): the page runs only its own
 * bundled script (no inline script, no eval), talks only to this origin, and cannot be framed.
 * The UI holds no secret in the page: it signs in with HTTP Basic from memory (ui/src/session.ts).
 */
import type { Hono } from "hono";
import type { AppEnv } from "./context";
import { resource } from "./routes";

export const UI_CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join("; ");

export function uiPageRoutes(app: Hono<AppEnv>): void {
  // Through resource(): 405 for other methods, and the page is in the OpenAPI document.
  resource(
    app,
    "/",
    {
      GET: async (c) => {
        const asset = await c.env.ASSETS.fetch(new Request(new URL("/", c.req.url)));
        const response = new Response(asset.body, asset);
        response.headers.set("Content-Security-Policy", UI_CONTENT_SECURITY_POLICY);
        response.headers.set("X-Content-Type-Options", "nosniff");
        response.headers.set("X-Frame-Options", "DENY");
        response.headers.set("Referrer-Policy", "no-referrer");
        response.headers.set("Cache-Control", "no-store");
        return response;
      },
    },
    { GET: { summary: "The management UI's page", public: true, produces: "text/html" } },
  );
}

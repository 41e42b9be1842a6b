/**
 * The OpenAPI document describes every route the app serves: a route registered without
 * `resource()` (src/api/routes.ts), or hidden from the document, fails here.
 */
import { describe, expect, it } from "vitest";
import { createApp } from "../../src/api/app";
import { call, json } from "../support/api";

interface OpenApi {
  openapi: string;
  paths: Record<string, Record<string, { requestBody?: unknown; responses: object }>>;
  components: { schemas?: Record<string, unknown> };
}

const toOpenApiPath = (path: string) =>
  path
    .split("/")
    .map((segment) =>
      segment.startsWith(":") ? `{${segment.slice(1).replace(/[{?].*$/, "")}}` : segment,
    )
    .join("/");

async function document(): Promise<OpenApi> {
  const response = await call("GET", "/api/openapi.json");
  expect(response.status).toBe(200);
  return json<OpenApi>(response);
}

describe("the OpenAPI document", () => {
  it("is OpenAPI 3.1 and lists every route the app serves, with its method", async () => {
    const doc = await document();
    expect(doc.openapi).toBe("3.1.0");
    const routes = createApp().routes.filter((route) => route.method !== "ALL");
    expect(routes.length).toBeGreaterThan(80);
    const missing = routes
      .filter((route) => !doc.paths[toOpenApiPath(route.path)]?.[route.method.toLowerCase()])
      .map((route) => `${route.method} ${route.path}`);
    expect(missing).toEqual([]);
  });

  it("describes request bodies with the schemas that validate them", async () => {
    const doc = await document();
    const declare = doc.paths["/api/exchanges/{vhost}/{name}"]?.put?.requestBody as {
      content: { "application/json": { schema: { properties: Record<string, unknown> } } };
    };
    const properties = declare.content["application/json"].schema.properties;
    expect(Object.keys(properties)).toEqual(
      expect.arrayContaining(["type", "durable", "auto_delete", "internal", "arguments"]),
    );
    // durable takes a boolean or rabbitmqadmin's "true"/"false", as the handler does.
    expect(JSON.stringify(properties.durable)).toContain("boolean");
    const get = doc.paths["/api/queues/{vhost}/{name}/get"]?.post?.requestBody;
    expect(JSON.stringify(get)).toContain("ackmode");
    const publish = doc.paths["/api/exchanges/{vhost}/{name}/publish"]?.post?.requestBody;
    expect(JSON.stringify(publish)).toContain("payload_encoding");
  });

  it("renders a reference page whose script is served locally", async () => {
    const page = await call("GET", "/api/docs");
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain("/api/openapi.json");
    expect(html).not.toMatch(/https?:\/\//);
    const script = await call("GET", "/api/docs/swagger-ui-bundle.js");
    expect(script.status).toBe(200);
    expect(script.headers.get("Content-Type")).toContain("javascript");
    expect((await script.text()).length).toBeGreaterThan(100_000);
    expect((await call("GET", "/api/docs/package.json")).status).toBe(404);
  });

  it("needs credentials, as every /api call does", async () => {
    expect((await call("GET", "/api/openapi.json", { auth: null })).status).toBe(401);
  });
});

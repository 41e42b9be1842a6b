import { describe, expect, it } from "vitest";
import { call, declareQueue, expectError, getMessages, publish } from "../support/api";

function nested(depth: number): unknown {
  let value: unknown = "leaf";
  for (let i = 0; i < depth; i++) value = { inner: value };
  return value;
}

describe("size and shape limits", () => {
  it("refuses message properties larger than 64 KiB with 413", async () => {
    await declareQueue("lim.props");
    const headers = { big: "h".repeat(70 * 1024) };
    const body = await expectError(
      await publish("", "lim.props", "m", { properties: { headers } }),
      413,
      "payload_too_large",
    );
    expect(body.reason).toContain("message properties are larger than");
  });

  it("refuses headers and arguments nested deeper than 32 levels", async () => {
    await declareQueue("lim.deep");
    await expectError(
      await publish("", "lim.deep", "m", { properties: { headers: { h: nested(40) } } }),
      400,
    );
    expect(
      (await publish("", "lim.deep", "m", { properties: { headers: { h: nested(20) } } })).status,
    ).toBe(200);
    await expectError(await declareQueue("lim.deepq", { arguments: { a: nested(40) } }), 400);
  });

  it("refuses a management body above 1 MiB with 413", async () => {
    const body = { durable: true, arguments: { blob: "x".repeat(1024 * 1024 + 1) } };
    await expectError(await call("PUT", "/api/queues/%2F/lim.body", { body }), 413);
  });

  it("answers a get within a byte budget and leaves the rest queued", async () => {
    await declareQueue("lim.get");
    const payload = "p".repeat(60 * 1024);
    const messages = Array.from({ length: 300 }, () => ({
      properties: {},
      routing_key: "lim.get",
      payload,
      payload_encoding: "string",
    }));
    const batch = await call("POST", "/api/exchanges/%2F/amq.default/publish-batch", {
      body: { messages },
    });
    expect(batch.status).toBe(200);
    const got = await getMessages("lim.get", 1000, "ack_requeue_false");
    expect(got.length).toBeGreaterThan(0);
    expect(got.length).toBeLessThan(300);
    expect(got.length * payload.length).toBeLessThanOrEqual(16 * 1024 * 1024);
    expect(got.at(-1)?.message_count).toBe(300 - got.length);
    const rest = await getMessages("lim.get", 1000, "ack_requeue_false");
    expect(got.length + rest.length).toBe(300);
  });
});

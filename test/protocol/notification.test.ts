import { describe, expect, it } from "vitest";
import { mintInboxToken, verifyInboxToken } from "../../src/protocol/inbox-token";
import {
  atoi,
  cutUtf8,
  decodeNotification,
  parseCursor,
  parseUserId,
} from "../../src/protocol/notification";

const bytes = (text: string) => new TextEncoder().encode(text);

describe("atoi", () => {
  it("accepts what Go's strconv.Atoi accepts and words errors as Go does", () => {
    expect(atoi("42")).toEqual({ ok: true, value: 42 });
    expect(atoi("+7")).toEqual({ ok: true, value: 7 });
    expect(atoi("-0")).toEqual({ ok: true, value: 0 });
    expect(atoi(" 1")).toEqual({ ok: false, error: 'strconv.Atoi: parsing " 1": invalid syntax' });
    expect(atoi("1e3")).toMatchObject({ ok: false });
  });
});

describe("user ids and cursors", () => {
  it("accepts canonical non-negative integers only", () => {
    expect(parseUserId("0")).toBe(0);
    expect(parseUserId("17")).toBe(17);
    for (const bad of ["", "01", "-1", "1.0", "x", "9007199254740993"]) {
      expect(parseUserId(bad), bad).toBeNull();
    }
    expect(parseCursor(undefined)).toBeUndefined();
    expect(parseCursor("12")).toBe(12);
    expect(parseCursor("12a")).toBeNull();
  });
});

describe("decodeNotification", () => {
  it("reads the article's Notification JSON with optional data", () => {
    const payload = JSON.stringify({
      from: { id: 2, name: "Bruno" },
      to: { id: 1, name: "Emma" },
      message: "Bruno started following you.",
      data: { url: "/u/2" },
    });
    expect(decodeNotification(bytes(payload))).toEqual({
      from: { id: 2, name: "Bruno" },
      message: "Bruno started following you.",
      data: { url: "/u/2" },
      truncated: false,
    });
  });

  it("takes any other payload as the message text, with no sender", () => {
    expect(decodeNotification(bytes('{"no":"message"}'))).toMatchObject({
      from: null,
      message: '{"no":"message"}',
    });
    expect(decodeNotification(bytes("plain"))).toMatchObject({ from: null, message: "plain" });
    expect(decodeNotification(new Uint8Array([0xff, 0x41])).message).toBe("\uFFFDA");
  });

  it("never splits a character when it cuts", () => {
    expect(cutUtf8("aé€😀", 6)).toBe("aé€");
    expect(cutUtf8("aé€😀", 10)).toBe("aé€😀");
  });
});

describe("inbox tokens", () => {
  it("verifies its own tokens until they expire, and nothing else", async () => {
    const claims = { vhost: "/", userId: 5, expiresAt: 2_000 };
    const token = await mintInboxToken("s3cret", claims);
    expect(await verifyInboxToken("s3cret", token, 1_999)).toEqual(claims);
    expect(await verifyInboxToken("s3cret", token, 2_000)).toBeNull();
    expect(await verifyInboxToken("other", token, 1_000)).toBeNull();
    const [payload, signature] = token.split(".");
    const tampered = `${btoa('{"v":"/","u":6,"exp":2000}').replace(/=+$/, "")}.${signature}`;
    expect(await verifyInboxToken("s3cret", tampered, 1_000)).toBeNull();
    expect(await verifyInboxToken("s3cret", `${payload}`, 1_000)).toBeNull();
    expect(await verifyInboxToken("s3cret", "!!.??", 1_000)).toBeNull();
  });
});

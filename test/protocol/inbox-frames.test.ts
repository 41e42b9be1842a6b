import { describe, expect, it } from "vitest";
import { CLIENT_FRAME, parseClientFrame } from "../../src/protocol/inbox-frames";

describe("parseClientFrame", () => {
  it("parses every client frame type", () => {
    expect(parseClientFrame('{"type":"ping"}')).toEqual({ type: "ping" });
    expect(parseClientFrame('{"type":"mark_all_read"}')).toEqual({ type: "mark_all_read" });
    expect(parseClientFrame('{"type":"mark_all_seen"}')).toEqual({ type: "mark_all_seen" });
    for (const type of ["mark_read", "mark_seen", "archive"]) {
      expect(parseClientFrame(JSON.stringify({ type, ids: [1, 2] }))).toEqual({
        type,
        ids: [1, 2],
      });
    }
    expect(Object.values(CLIENT_FRAME)).toHaveLength(6);
  });

  it("answers null for anything malformed", () => {
    const bad = [
      "",
      "null",
      "1",
      "[]",
      "{}",
      '{"type":1}',
      '{"type":"toString"}',
      '{"type":"mark_read"}',
      '{"type":"mark_read","ids":[]}',
      '{"type":"mark_read","ids":[1.5]}',
      '{"type":"archive","ids":"1"}',
      `{"type":"ping","pad":"${"x".repeat(70_000)}"}`,
    ];
    for (const text of bad) expect(parseClientFrame(text), text.slice(0, 40)).toBeNull();
    expect(parseClientFrame(new ArrayBuffer(3))).toBeNull();
  });
});

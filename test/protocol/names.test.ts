/**
 * Name and routing-key length in UTF-8 bytes, the AMQP shortstr limit, counted without encoding
 * the text when it is short enough to fit whatever its characters.
 */
import { describe, expect, it } from "vitest";
import { byteLength, checkRoutingKey, longerThanBytes } from "../../src/protocol/names";

describe("the UTF-8 length of a name", () => {
  it("agrees with the encoded length around the limit, for one-, two-, three- and four-byte characters", () => {
    for (const char of ["a", "é", "€", "😀"]) {
      for (let count = 0; count <= 300; count++) {
        const text = char.repeat(count);
        expect(longerThanBytes(text, 255), `${count} × ${char}`).toBe(byteLength(text) > 255);
      }
    }
  });

  it("refuses a routing key of 86 three-byte characters and takes one of 85", () => {
    expect(checkRoutingKey("€".repeat(85))).toBeNull();
    expect(checkRoutingKey("€".repeat(86))?.reason).toBe("routing key is longer than 255 bytes");
  });
});

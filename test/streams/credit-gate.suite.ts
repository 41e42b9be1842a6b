/**
 * A stream reader's credit (src/streams/credit-gate.ts): what a reader has granted and not yet
 * used, shared by every partition it reads; nothing is handed out beyond it.
 */
import { describe, expect, it } from "vitest";
import { CreditGate } from "../../src/streams/credit-gate";

describe("a reader's credit gate", () => {
  it("grants no more than the credit left, and nothing once it is used up", () => {
    const gate = new CreditGate(2);
    expect(gate.take(5)).toBe(2);
    expect(gate.available).toBe(0);
    expect(gate.take(1)).toBe(0);
  });

  it("adds granted credit to what is left", () => {
    const gate = new CreditGate(3);
    expect(gate.take(1)).toBe(1);
    gate.add(10);
    expect(gate.available).toBe(12);
    expect(gate.take(20)).toBe(12);
  });

  it("keeps a reader waiting while the credit is used up, and lets it go on more credit", async () => {
    const gate = new CreditGate(0);
    let released = false;
    const waiting = gate.whenAvailable().then(() => {
      released = true;
    });
    // A settled promise's callbacks have run once a later microtask has: still waiting.
    await Promise.resolve();
    await Promise.resolve();
    expect(released).toBe(false);
    gate.add(1);
    await waiting;
    expect(released).toBe(true);
    expect(gate.take(1)).toBe(1);
  });

  it("lets every waiting reader go when it closes, credit or not", async () => {
    const gate = new CreditGate(0);
    const waiters = [gate.whenAvailable(), gate.whenAvailable()];
    gate.close();
    await Promise.all(waiters);
    expect(gate.take(1)).toBe(0);
  });

  it("answers at once when credit is left", async () => {
    const gate = new CreditGate(1);
    await gate.whenAvailable();
    expect(gate.available).toBe(1);
  });
});

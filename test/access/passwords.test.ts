import { describe, expect, it } from "vitest";
import {
  checkPasswordHash,
  hashPassword,
  NATIVE_ALGORITHM,
  PBKDF2_ITERATIONS,
  RABBIT_SHA256,
  rabbitSha256Hash,
  verifyPassword,
} from "../../src/access/passwords";
import definitions from "../fixtures/rabbitmq-definitions.json";

describe("password hashing", () => {
  it("stores PBKDF2-SHA-256 at the Workers ceiling of 100,000 iterations with a random salt", async () => {
    const a = await hashPassword("s3cret");
    const b = await hashPassword("s3cret");
    expect(PBKDF2_ITERATIONS).toBe(100_000);
    expect(a).toMatch(/^\$pbkdf2-sha256\$v=1,i=100000\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+$/);
    expect(a).not.toBe(b);
    expect(await verifyPassword("s3cret", a, NATIVE_ALGORITHM)).toEqual({
      ok: true,
      upgrade: false,
    });
    expect((await verifyPassword("s3creT", a, NATIVE_ALGORITHM)).ok).toBe(false);
  });

  it("verifies the RabbitMQ hashes of the shared definitions file and asks for an upgrade", async () => {
    const [user1, guest] = definitions.users;
    expect(await verifyPassword("password", user1?.password_hash ?? "", RABBIT_SHA256)).toEqual({
      ok: true,
      upgrade: true,
    });
    expect((await verifyPassword("guest", guest?.password_hash ?? "", RABBIT_SHA256)).ok).toBe(
      true,
    );
    expect((await verifyPassword("password9", user1?.password_hash ?? "", RABBIT_SHA256)).ok).toBe(
      false,
    );
  });

  it("makes RabbitMQ-format hashes that RabbitMQ's format check accepts", async () => {
    const hash = await rabbitSha256Hash("pw", new Uint8Array([1, 2, 3, 4]));
    expect(checkPasswordHash(hash, RABBIT_SHA256)).toBeNull();
    expect((await verifyPassword("pw", hash, RABBIT_SHA256)).ok).toBe(true);
  });

  it("refuses malformed hashes, unknown algorithms and iteration counts above the ceiling", () => {
    expect(checkPasswordHash("not base64!", RABBIT_SHA256)?.code).toBe("bad_request");
    expect(checkPasswordHash(btoa("short"), RABBIT_SHA256)?.code).toBe("bad_request");
    expect(checkPasswordHash("x", "rabbit_password_hashing_md5")?.code).toBe("bad_request");
    const salt = btoa("0123456789abcdef");
    const key = btoa("k".repeat(32));
    expect(
      checkPasswordHash(`$pbkdf2-sha256$v=1,i=100000$${salt}$${key}`, NATIVE_ALGORITHM),
    ).toBeNull();
    expect(
      checkPasswordHash(`$pbkdf2-sha256$v=1,i=100001$${salt}$${key}`, NATIVE_ALGORITHM)?.code,
    ).toBe("bad_request");
    expect(checkPasswordHash("", NATIVE_ALGORITHM)).toBeNull();
  });

  it("never verifies an empty hash (a user without a password cannot log in with one)", async () => {
    expect((await verifyPassword("", "", NATIVE_ALGORITHM)).ok).toBe(false);
    expect((await verifyPassword("", "", RABBIT_SHA256)).ok).toBe(false);
  });
});

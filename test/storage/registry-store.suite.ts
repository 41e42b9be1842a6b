/** The registry's tables in SQLite (src/storage/registry-store.ts), driven directly. */
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { UserRecord, VhostRecord } from "../../src/protocol/registry-records";
import { RegistryStore } from "../../src/storage/registry-store";
import { inObject } from "./support";

function inRegistry<T>(name: string, body: (store: RegistryStore) => T): Promise<T> {
  return inObject(env.REGISTRY, `registry:${name}`, (sql) => body(new RegistryStore(sql)));
}

const user = (name: string, extra: Partial<UserRecord> = {}): UserRecord => ({
  name,
  password_hash: `hash-of-${name}`,
  hashing_algorithm: "pbkdf2",
  tags: [],
  limits: {},
  ...extra,
});

const vhost = (name: string, extra: Partial<VhostRecord> = {}): VhostRecord => ({
  name,
  description: "",
  tags: [],
  default_queue_type: "classic",
  limits: {},
  ...extra,
});

const grant = (store: RegistryStore, who: string, where: string) =>
  store.putPermission({ user: who, vhost: where, configure: ".*", write: ".*", read: ".*" });

/** Only this test's names: a fresh registry holds its bootstrap administrator too. */
const mine = (names: string[]) => names.filter((n) => n.startsWith("rs-"));

describe("a registry store", () => {
  it("keeps users with their tags and limits, updated in place", async () => {
    await inRegistry("users", (store) => {
      store.putUser(user("rs-b"));
      store.putUser(user("rs-a", { tags: ["management"], limits: { "max-connections": 3 } }));
      expect(store.getUser("rs-a")).toEqual(
        user("rs-a", { tags: ["management"], limits: { "max-connections": 3 } }),
      );
      expect(mine(store.listUsers().map((u) => u.name))).toEqual(["rs-a", "rs-b"]);
      expect(store.getUser("rs-missing")).toBeUndefined();
    });
  });

  it("gives a user a new identity when created or its hash changes, not when tags change", async () => {
    await inRegistry("identity", (store) => {
      expect(store.userIdentity("rs-u")).toBeUndefined();
      store.putUser(user("rs-u"));
      const first = store.userIdentity("rs-u");
      store.putUser(user("rs-u", { tags: ["administrator"] }));
      expect(store.userIdentity("rs-u")).toBe(first);
      store.putUser(user("rs-u", { password_hash: "another" }));
      expect(store.userIdentity("rs-u")).not.toBe(first);
      store.deleteUser("rs-u");
      store.putUser(user("rs-u"));
      expect(store.userIdentity("rs-u")).not.toBe(first);
    });
  });

  it("takes away a user's tickets when its identity changes", async () => {
    await inRegistry("identity-tickets", (store) => {
      store.putUser(user("rs-t"));
      store.putTicket("d1", "rs-t", "/", 1000);
      store.putUser(user("rs-t", { tags: ["x"] }));
      store.putTicket("d2", "rs-t", "/", 1000);
      store.putUser(user("rs-t", { password_hash: "new" }));
      expect(store.takeTicket("d1")).toBeUndefined();
      expect(store.takeTicket("d2")).toBeUndefined();
    });
  });

  it("replaces a hash only if it is still the one expected", async () => {
    await inRegistry("rehash", (store) => {
      store.putUser(user("rs-h", { password_hash: "old" }));
      store.replaceHash("rs-h", "stale", "lost", "x");
      expect(store.getUser("rs-h")?.password_hash).toBe("old");
      store.replaceHash("rs-h", "old", "new", "sha512");
      expect(store.getUser("rs-h")).toMatchObject({
        password_hash: "new",
        hashing_algorithm: "sha512",
      });
    });
  });

  it("deletes a user with every permission and ticket it held, answering whether it existed", async () => {
    await inRegistry("delete-user", (store) => {
      store.putUser(user("rs-d"));
      grant(store, "rs-d", "v1");
      store.putTopicPermission({ user: "rs-d", vhost: "v1", exchange: "t", write: ".*", read: "" });
      store.putTicket("d", "rs-d", "v1", 1000);
      grant(store, "rs-other", "v1");
      expect(store.deleteUser("rs-d")).toBe(true);
      expect(store.deleteUser("rs-d")).toBe(false);
      expect(store.listPermissions({ vhost: "v1" }).map((p) => p.user)).toEqual(["rs-other"]);
      expect(store.listTopicPermissions({ user: "rs-d" })).toEqual([]);
      expect(store.takeTicket("d")).toBeUndefined();
    });
  });

  it("keeps vhosts with their limits, and deletes one with its permissions only", async () => {
    await inRegistry("vhosts", (store) => {
      store.putVhost(vhost("rs-v", { limits: { "max-queues": 10 } }));
      store.putVhost(vhost("rs-v", { description: "d", limits: { "max-connections": 2 } }));
      expect(store.getVhost("rs-v")).toEqual(
        vhost("rs-v", { description: "d", limits: { "max-connections": 2 } }),
      );
      store.putVhost(vhost("rs-w"));
      grant(store, "rs-u", "rs-v");
      grant(store, "rs-u", "rs-w");
      expect(store.deleteVhost("rs-v")).toBe(true);
      expect(store.deleteVhost("rs-v")).toBe(false);
      expect(mine(store.listVhosts().map((v) => v.name))).toEqual(["rs-w"]);
      expect(store.listPermissions({ user: "rs-u" }).map((p) => p.vhost)).toEqual(["rs-w"]);
    });
  });

  it("keeps one permission per user and vhost, listed by vhost then user, filtered", async () => {
    await inRegistry("permissions", (store) => {
      grant(store, "rs-b", "v2");
      grant(store, "rs-a", "v2");
      grant(store, "rs-a", "v1");
      store.putPermission({ user: "rs-a", vhost: "v1", configure: "", write: "^w$", read: "^r$" });
      const pairs = store
        .listPermissions()
        .filter((p) => p.user.startsWith("rs-"))
        .map((p) => `${p.vhost}/${p.user}`);
      expect(pairs).toEqual(["v1/rs-a", "v2/rs-a", "v2/rs-b"]);
      expect(store.listPermissions({ user: "rs-a", vhost: "v1" })).toEqual([
        { user: "rs-a", vhost: "v1", configure: "", write: "^w$", read: "^r$" },
      ]);
      expect(store.deletePermission("rs-a", "v1")).toBe(true);
      expect(store.deletePermission("rs-a", "v1")).toBe(false);
    });
  });

  it("keeps topic permissions per exchange, and deletes one or all of a user's in a vhost", async () => {
    await inRegistry("topic-permissions", (store) => {
      const topic = (exchange: string) => ({
        user: "rs-u",
        vhost: "v",
        exchange,
        write: "^a$",
        read: ".*",
      });
      store.putTopicPermission(topic("t2"));
      store.putTopicPermission(topic("t1"));
      store.putTopicPermission({ ...topic("t1"), write: "^b$" });
      expect(
        store.listTopicPermissions({ user: "rs-u" }).map((p) => [p.exchange, p.write]),
      ).toEqual([
        ["t1", "^b$"],
        ["t2", "^a$"],
      ]);
      expect(store.deleteTopicPermissions("rs-u", "v", "t1")).toBe(true);
      expect(store.deleteTopicPermissions("rs-u", "v", "t1")).toBe(false);
      store.putTopicPermission(topic("t3"));
      expect(store.deleteTopicPermissions("rs-u", "v")).toBe(true);
      expect(store.listTopicPermissions({ vhost: "v" })).toEqual([]);
    });
  });

  it("counts failed logins per user, and forgets old ones whose block has ended", async () => {
    await inRegistry("failures", (store) => {
      expect(store.getFailures("rs-f")).toBeUndefined();
      store.putFailures("rs-f", { failures: 3, blockedUntil: 500 }, 100);
      store.putFailures("rs-g", { failures: 1, blockedUntil: 0 }, 100);
      store.putFailures("rs-h", { failures: 1, blockedUntil: 0 }, 900);
      expect(store.getFailures("rs-f")).toEqual({ failures: 3, blockedUntil: 500 });
      store.pruneFailures(200, 300);
      expect(store.getFailures("rs-f")).toBeDefined();
      expect(store.getFailures("rs-g")).toBeUndefined();
      expect(store.getFailures("rs-h")).toBeDefined();
      store.clearFailures("rs-f");
      expect(store.getFailures("rs-f")).toBeUndefined();
    });
  });

  it("hands out a ticket once, and prunes expired ones", async () => {
    await inRegistry("tickets", (store) => {
      store.putTicket("once", "rs-u", "/", 1000);
      store.putTicket("expired", "rs-u", "/", 50);
      expect(store.takeTicket("once")).toEqual({ user: "rs-u", vhost: "/", expires: 1000 });
      expect(store.takeTicket("once")).toBeUndefined();
      store.pruneTickets(50);
      expect(store.takeTicket("expired")).toBeUndefined();
    });
  });
});

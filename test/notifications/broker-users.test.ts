import { describe, expect, it } from "vitest";
import { createUser, grant } from "../support/access";
import { call } from "../support/api";
import { createUsers, sendJson } from "../support/notifications";

describe("broker users in the notification app", () => {
  it("lets a broker user with write on the notifications exchange send, and refuses one without", async () => {
    await createUsers([
      [801, "Ona"],
      [802, "Pim"],
    ]);
    const sender = await createUser("nb-sender", "pw");
    await grant("/", "nb-sender", "", "^notifications$", "");
    const sent = await sendJson({ fromID: 801, toID: 802, message: "hi" }, sender);
    expect(sent.status).toBe(200);
    const other = await createUser("nb-other", "pw");
    await grant("/", "nb-other", ".*", "^orders$", ".*");
    const refused = await sendJson({ fromID: 801, toID: 802, message: "no" }, other);
    expect(refused.status).toBe(403);
  });

  it("keeps a broker user who is not an administrator out of other people's inboxes", async () => {
    await createUsers([[811, "Quin"]]);
    const auth = await createUser("nb-reader", "pw", "management");
    await grant("/", "nb-reader");
    expect((await call("GET", "/notifications/811/inbox", { auth })).status).toBe(403);
    expect((await call("GET", "/notifications/811/inbox")).status).toBe(200);
  });

  it("refuses notification-user changes and inbox tokens to non-administrators", async () => {
    const auth = await createUser("nb-manager", "pw", "management");
    await grant("/", "nb-manager");
    const put = await call("PUT", "/api/notification-users/%2F/821", {
      auth,
      body: { name: "Rae" },
    });
    expect(put.status).toBe(403);
    const bind = await call("POST", "/api/bindings/%2F/e/amq.direct/i/821", { auth, body: {} });
    expect(bind.status).toBe(403);
  });
});

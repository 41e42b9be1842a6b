import { describe, expect, it } from "vitest";
import { call, json } from "../support/api";
import { createUsers, sendForm, sendJson } from "../support/notifications";
import { Member } from "./support";

const ARTICLE: [number, string][] = [
  [1, "Emma"],
  [2, "Bruno"],
  [3, "Rick"],
  [4, "Lena"],
];

/** Every message in the notifications topic, read the way a group member does. */
async function readAll(
  groupName: string,
): Promise<{ key: string; payload: string; partition: number }[]> {
  const member = new Member(groupName, ["notifications"], { auto_offset_reset: "earliest" });
  const assigned = await member.beat();
  const out: { key: string; payload: string; partition: number }[] = [];
  for (const a of assigned) {
    const answer = await json<{ messages: { key: string; payload: string }[] }>(
      await call("POST", `/api/topics/%2F/notifications/partitions/${a.partition}/fetch`, {
        body: { offset: a.position },
      }),
    );
    for (const m of answer.messages) out.push({ ...m, partition: a.partition });
  }
  await member.leave();
  return out;
}

describe("POST /send on the notifications topic", () => {
  it("appends each notification keyed by the recipient's id, one partition per key", async () => {
    await createUsers(ARTICLE);
    expect((await sendForm("fromID=2&toID=1&message=Bruno started following you.")).status).toBe(
      200,
    );
    expect((await sendForm("fromID=4&toID=1&message=Lena liked your post")).status).toBe(200);
    expect((await sendForm("fromID=1&toID=2&message=Emma mentioned you")).status).toBe(200);
    const topic = await json<{ partitions: number; messages: number }>(
      await call("GET", "/api/topics/%2F/notifications"),
    );
    expect(topic).toMatchObject({ partitions: 4, messages: 3 });
    const all = await readAll("nt-readers");
    const emma = all.filter((m) => m.key === "1");
    expect(emma.map((m) => JSON.parse(m.payload).message)).toEqual([
      "Bruno started following you.",
      "Lena liked your post",
    ]);
    expect(new Set(emma.map((m) => m.partition)).size).toBe(1);
    expect(JSON.parse(emma[0]?.payload ?? "{}")).toMatchObject({
      from: { id: 2, name: "Bruno" },
      to: { id: 1, name: "Emma" },
    });
    expect(all.filter((m) => m.key === "2")).toHaveLength(1);
  });

  it("does not append a send that reached no one", async () => {
    await createUsers([[5, "Zoe"]]);
    expect((await sendJson({ fromID: 5, toID: 5, message: "to myself" })).status).toBe(200);
    const count = async () =>
      (await json<{ messages: number }>(await call("GET", "/api/topics/%2F/notifications")))
        .messages;
    const before = await count();
    expect((await sendJson({ fromID: 5, toID: 77, message: "nobody" })).status).toBe(404);
    expect(await count()).toBe(before);
  });
});

import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { BASE, call, GUEST, json } from "../support/api";
import { createUsers, sendForm, sendJson } from "../support/notifications";

// The article's users (ids 1-4) are created in this file's own storage.
const ARTICLE: [number, string][] = [
  [1, "Emma"],
  [2, "Bruno"],
  [3, "Rick"],
  [4, "Lena"],
];

describe("the article's API", () => {
  it("reproduces the article's session: three sends, then Emma's and Bruno's lists", async () => {
    await createUsers(ARTICLE);
    const sends = [
      "fromID=2&toID=1&message=Bruno started following you.",
      "fromID=1&toID=2&message=Emma mentioned you in a comment: 'Great seeing you yesterday, @Bruno!'",
      "fromID=4&toID=1&message=Lena liked your post: 'My weekend getaway!'",
    ];
    for (const form of sends) {
      const response = await sendForm(form);
      expect(response.status).toBe(200);
      expect(await response.text()).toBe('{"message":"Notification sent successfully!"}');
    }
    const emma = await call("GET", "/notifications/1");
    expect(emma.status).toBe(200);
    expect(await emma.json()).toEqual({
      notifications: [
        {
          from: { id: 2, name: "Bruno" },
          to: { id: 1, name: "Emma" },
          message: "Bruno started following you.",
        },
        {
          from: { id: 4, name: "Lena" },
          to: { id: 1, name: "Emma" },
          message: "Lena liked your post: 'My weekend getaway!'",
        },
      ],
    });
    const bruno = await json(await call("GET", "/notifications/2"));
    expect(bruno).toEqual({
      notifications: [
        {
          from: { id: 1, name: "Emma" },
          to: { id: 2, name: "Bruno" },
          message: "Emma mentioned you in a comment: 'Great seeing you yesterday, @Bruno!'",
        },
      ],
    });
  });

  it("answers a user with no notifications as the article does", async () => {
    await createUsers([[3, "Rick"]]);
    const response = await call("GET", "/notifications/3");
    expect(response.status).toBe(200);
    expect(await response.text()).toBe(
      '{"message":"No notifications found for user","notifications":[]}',
    );
  });

  it("answers an id no user has like an empty inbox, as the article's consumer does", async () => {
    for (const id of ["999", "abc"]) {
      const response = await call("GET", `/notifications/${id}`);
      expect(response.status).toBe(200);
      expect(await response.json()).toEqual({
        message: "No notifications found for user",
        notifications: [],
      });
    }
  });

  it("answers 400 with Go's strconv.Atoi reason for an ID that does not parse", async () => {
    await createUsers(ARTICLE);
    const cases: [string, string][] = [
      ["fromID=x&toID=1&message=m", 'fromID: strconv.Atoi: parsing "x": invalid syntax'],
      ["fromID=2&toID=1.5&message=m", 'toID: strconv.Atoi: parsing "1.5": invalid syntax'],
      ["toID=1&message=m", 'fromID: strconv.Atoi: parsing "": invalid syntax'],
      ["fromID=2&message=m", 'toID: strconv.Atoi: parsing "": invalid syntax'],
      [
        "fromID=99999999999999999999&toID=1",
        'fromID: strconv.Atoi: parsing "99999999999999999999": value out of range',
      ],
    ];
    for (const [form, reason] of cases) {
      const response = await sendForm(form);
      expect(response.status).toBe(400);
      expect(await response.json()).toEqual({
        message: `failed to parse ID from form value ${reason}`,
      });
    }
  });

  it("answers 404 User not found for an unknown sender or recipient, and stores nothing", async () => {
    await createUsers(ARTICLE);
    for (const form of [
      "fromID=9&toID=1&message=m",
      "fromID=2&toID=9&message=m",
      "fromID=-1&toID=1",
    ]) {
      const response = await sendForm(form);
      expect(response.status).toBe(404);
      expect(await response.text()).toBe('{"message":"User not found"}');
    }
    expect(await json(await call("GET", "/notifications/9"))).toEqual({
      message: "No notifications found for user",
      notifications: [],
    });
  });

  it("accepts a JSON body with numeric or string ids and optional data", async () => {
    await createUsers(ARTICLE);
    expect((await sendJson({ fromID: 3, toID: "4", message: "hi Lena" })).status).toBe(200);
    const withData = await sendJson({ fromID: 3, toID: 4, message: "see", data: { post: 7 } });
    expect(withData.status).toBe(200);
    const page = await json<{ notifications: { message: string; data: unknown }[] }>(
      await call("GET", "/notifications/4/inbox"),
    );
    expect(page.notifications.map((n) => [n.message, n.data])).toEqual([
      ["see", { post: 7 }],
      ["hi Lena", null],
    ]);
  });

  it("accepts a multipart form, as Gin's PostForm does", async () => {
    await createUsers(ARTICLE);
    const form = new FormData();
    form.set("fromID", "2");
    form.set("toID", "3");
    form.set("message", "multipart works");
    const sent = await exports.default.fetch(
      new Request(`${BASE}/send`, {
        method: "POST",
        body: form,
        headers: { Authorization: GUEST },
      }),
    );
    expect(sent.status).toBe(200);
    const rick = await json<{ notifications: { message: string }[] }>(
      await call("GET", "/notifications/3"),
    );
    expect(rick.notifications.map((n) => n.message)).toEqual(["multipart works"]);
  });

  it("answers 405 for other methods on the article's routes", async () => {
    expect((await call("GET", "/send")).status).toBe(405);
    expect((await call("DELETE", "/notifications/1")).status).toBe(405);
  });
});

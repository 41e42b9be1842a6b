import { describe, expect, it } from "vitest";
import { BindingTable } from "../../src/routing/binding-table";
import { exchangeTypes } from "../../src/routing/registry";

describe("BindingTable destinations", () => {
  it("routes to queues, exchanges, inboxes and streams separately", () => {
    const table = new BindingTable(exchangeTypes.direct, undefined);
    table.add("q", { kind: "queue", name: "orders" }, "k", {});
    table.add("e", { kind: "exchange", name: "audit" }, "k", {});
    table.add("i", { kind: "inbox", name: "1" }, "k", {});
    table.add("i2", { kind: "inbox", name: "2" }, "other", {});
    table.add("s", { kind: "stream", name: "orders-log" }, "k", {});
    expect(table.route({ routingKey: "k" })).toEqual({
      queues: ["orders"],
      exchanges: ["audit"],
      inboxes: ["1"],
      streams: ["orders-log"],
    });
  });

  it("counts an inbox match as routed: no alternate exchange then", () => {
    const table = new BindingTable(exchangeTypes.direct, "ae");
    table.add("i", { kind: "inbox", name: "7" }, "7", {});
    expect(table.route({ routingKey: "7" })).toEqual({
      queues: [],
      exchanges: [],
      inboxes: ["7"],
      streams: [],
    });
    expect(table.route({ routingKey: "8" })).toEqual({
      queues: [],
      exchanges: ["ae"],
      inboxes: [],
      streams: [],
    });
  });
});

import { describe, expect, it } from "vitest";
import {
  compileTopicKey,
  splitTopicKey,
  type TopicIndex,
  topicExchange,
} from "../../src/routing/topic";
import { compileOrFail, route } from "./helpers";

function topicIndex(bindings: readonly (readonly [id: string, bindingKey: string])[]): TopicIndex {
  const index = topicExchange.createIndex();
  for (const [id, key] of bindings) index.add(id, compileOrFail(topicExchange, key));
  return index;
}

describe("topic key splitting", () => {
  it("splits the empty key into zero words, as RabbitMQ's split_topic_key does", () => {
    expect(splitTopicKey("")).toEqual([]);
  });

  it("keeps empty words between, before and after dots", () => {
    expect(splitTopicKey(".")).toEqual(["", ""]);
    expect(splitTopicKey("a..b")).toEqual(["a", "", "b"]);
  });

  it("collapses runs of '#' at compile time because they match the same keys as one '#'", () => {
    expect(compileTopicKey("a.#.#.b").words).toEqual(["a", "#", "b"]);
    expect(compileTopicKey("#.#.#").words).toEqual(["#"]);
    expect(compileTopicKey("#.*.#").words).toEqual(["#", "*", "#"]);
  });
});

describe("topic exchange", () => {
  it("matches '#' against the empty routing key", () => {
    expect(route(topicIndex([["q", "#"]]), "")).toEqual(["q"]);
  });

  it("does not match '*' against the empty routing key, which has no words", () => {
    expect(route(topicIndex([["q", "*"]]), "")).toEqual([]);
  });

  it("matches '*' against a single empty word", () => {
    const index = topicIndex([["q", "*.*"]]);
    expect(route(index, ".")).toEqual(["q"]);
    expect(route(index, "a.")).toEqual(["q"]);
  });

  it("routes to every binding that matches, each id once", () => {
    const index = topicIndex([
      ["exact", "stock.usd.nyse"],
      ["star", "stock.*.nyse"],
      ["hash", "stock.#"],
      ["all", "#"],
      ["other", "stock.eur.*"],
    ]);
    expect(route(index, "stock.usd.nyse")).toEqual(["all", "exact", "hash", "star"]);
    expect(route(index, "stock.eur.lse")).toEqual(["all", "hash", "other"]);
    expect(route(index, "stock")).toEqual(["all", "hash"]);
    expect(route(index, "bond.usd")).toEqual(["all"]);
  });

  it("matches '#.#' like '#', including the empty routing key", () => {
    const index = topicIndex([["q", "#.#"]]);
    for (const key of ["", "a", "a.b.c", "."]) expect(route(index, key)).toEqual(["q"]);
  });

  it("matches 'a.#.#.b' with zero or more words between a and b", () => {
    const index = topicIndex([["q", "a.#.#.b"]]);
    for (const key of ["a.b", "a.x.b", "a.x.y.b", "a.b.b"])
      expect(route(index, key)).toEqual(["q"]);
    for (const key of ["a", "b", "a.b.c", "x.a.b"]) expect(route(index, key)).toEqual([]);
  });

  it("matches '#.*' against one or more words but not the empty key", () => {
    const index = topicIndex([["q", "#.*"]]);
    expect(route(index, "")).toEqual([]);
    for (const key of ["a", "a.b", "a.b.c.d"]) expect(route(index, key)).toEqual(["q"]);
  });

  it("backtracks when '#' first swallows a word it must leave for what follows", () => {
    const index = topicIndex([["q", "#.a.#.b"]]);
    expect(route(index, "a.a.b.a.b")).toEqual(["q"]);
    expect(route(index, "a.a.a")).toEqual([]);
  });

  it("treats '*' and '#' as wildcards only when they are whole words", () => {
    const index = topicIndex([
      ["star", "a*"],
      ["hash", "a.#b"],
    ]);
    expect(route(index, "a*")).toEqual(["star"]);
    expect(route(index, "ab")).toEqual([]);
    expect(route(index, "a.#b")).toEqual(["hash"]);
    expect(route(index, "a.b")).toEqual([]);
  });

  it("routes a long key through many '#' and '*' words without exponential blowup", () => {
    const index = topicIndex([["q", "#.*.#.*.#.*.#.*.#.*.#.*.#.*.#.z"]]);
    const key = Array.from({ length: 200 }, () => "a").join(".");
    const started = Date.now();
    expect(route(index, key)).toEqual([]);
    expect(route(index, `${key}.z`)).toEqual(["q"]);
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it("leaves its node count unchanged after routing many unbound keys", () => {
    const index = topicIndex([
      ["q1", "a.*.c"],
      ["q2", "#.z"],
      ["q3", "x.#"],
    ]);
    const before = index.nodeCount;
    for (let i = 0; i < 1000; i++) route(index, `k${i}.w${i % 7}.${i}`);
    for (const key of ["", ".", "a", "a.b", "a.b.c.d", "*", "#", "a.*.c"]) route(index, key);
    expect(index.nodeCount).toBe(before);
    expect(index.size).toBe(3);
  });

  it("shares trie nodes between bindings with a common prefix", () => {
    const index = topicIndex([
      ["q1", "a.b.c"],
      ["q2", "a.b.d"],
    ]);
    // root, a, b, c, d
    expect(index.nodeCount).toBe(5);
  });

  it("prunes the nodes only a removed binding used and keeps shared ones", () => {
    const index = topicIndex([
      ["q1", "a.b.c"],
      ["q2", "a.b"],
    ]);
    index.remove("q1");
    expect(index.nodeCount).toBe(3);
    expect(route(index, "a.b.c")).toEqual([]);
    expect(route(index, "a.b")).toEqual(["q2"]);
    index.remove("q2");
    expect(index.nodeCount).toBe(1);
    expect(index.size).toBe(0);
  });

  it("keeps a node that another id is still bound to when one id is removed", () => {
    const index = topicIndex([
      ["q1", "a.#"],
      ["q2", "a.#"],
    ]);
    index.remove("q1");
    expect(route(index, "a.b")).toEqual(["q2"]);
    expect(index.nodeCount).toBe(3);
  });

  it("rebinds an id that is added again instead of duplicating it", () => {
    const index = topicIndex([
      ["q", "old.*"],
      ["q", "new.*"],
    ]);
    expect(index.size).toBe(1);
    expect(route(index, "old.x")).toEqual([]);
    expect(route(index, "new.x")).toEqual(["q"]);
    // root, new, * — the old branch was pruned
    expect(index.nodeCount).toBe(3);
  });
});

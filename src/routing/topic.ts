/**
 * Topic exchange with AMQP 0-9-1 topic semantics, as implemented by RabbitMQ's
 * rabbit_exchange_type_topic: keys are dot-separated words, `*` in a binding key matches exactly
 * one word and `#` matches zero or more words. Words may be empty ("a..b" has three words, the
 * middle one empty), but the empty key "" has zero words, not one empty word: RabbitMQ's
 * split_topic_key(<<>>) returns [], so "*" does not match "" while "#" does (see the vectors).
 *
 * Bindings are compiled into a trie once, at bind time, like RabbitMQ's rabbit_topic_trie_*
 * tables. Routing walks the trie over (node, word position) states; it only reads the trie, so
 * routing any number of unbound keys never grows it.
 */
import type { ExchangeType, RoutableMessage, RoutingIndex } from "./exchange-type";

/** A compiled topic binding: its words, with runs of `#` collapsed (see compileTopicKey). */
export interface TopicBinding {
  readonly words: readonly string[];
}

/** Splits a topic key into words the way RabbitMQ does: "" is zero words. */
export function splitTopicKey(key: string): string[] {
  return key === "" ? [] : key.split(".");
}

/**
 * "#.#" matches exactly what "#" matches (zero-or-more then zero-or-more is zero-or-more), so
 * runs of `#` are collapsed to one. This keeps the trie and the states walked per publish
 * smaller; it does not change which keys match.
 */
export function compileTopicKey(bindingKey: string): TopicBinding {
  const words: string[] = [];
  for (const word of splitTopicKey(bindingKey)) {
    if (word === "#" && words[words.length - 1] === "#") continue;
    words.push(word);
  }
  return { words };
}

class TrieNode {
  /** Literal-word edges; `*` and `#` are never literals in a binding key, so they get own edges. */
  readonly children = new Map<string, TrieNode>();
  star: TrieNode | undefined;
  hash: TrieNode | undefined;
  /** Ids of the bindings whose key ends at this node. */
  readonly ids = new Set<string>();

  constructor(
    /** Unique per index; identifies the node in the per-publish visited set. */
    readonly serial: number,
    /** True when the edge into this node is `#`: such a node may also consume further words. */
    readonly isHash: boolean,
  ) {}

  isEmpty(): boolean {
    return (
      this.ids.size === 0 &&
      this.children.size === 0 &&
      this.star === undefined &&
      this.hash === undefined
    );
  }

  child(word: string): TrieNode | undefined {
    if (word === "*") return this.star;
    if (word === "#") return this.hash;
    return this.children.get(word);
  }
}

export class TopicIndex implements RoutingIndex<TopicBinding> {
  private readonly root = new TrieNode(0, false);
  private nextSerial = 1;
  private nodes = 1;
  /** Id to compiled binding, so remove can find the binding's path without a search. */
  private readonly bindings = new Map<string, TopicBinding>();

  get size(): number {
    return this.bindings.size;
  }

  /** Nodes in the trie, root included: lets tests check that routing never grows it. */
  get nodeCount(): number {
    return this.nodes;
  }

  add(id: string, compiled: TopicBinding): void {
    // Ids are unique per index: adding an existing id rebinds it rather than duplicating it.
    this.remove(id);
    let node = this.root;
    for (const word of compiled.words) {
      let next = node.child(word);
      if (next === undefined) {
        next = new TrieNode(this.nextSerial++, word === "#");
        this.nodes++;
        if (word === "*") node.star = next;
        else if (word === "#") node.hash = next;
        else node.children.set(word, next);
      }
      node = next;
    }
    node.ids.add(id);
    this.bindings.set(id, compiled);
  }

  remove(id: string): void {
    const compiled = this.bindings.get(id);
    if (compiled === undefined) return;
    this.bindings.delete(id);
    const path: TrieNode[] = [this.root];
    let node = this.root;
    for (const word of compiled.words) {
      const next = node.child(word);
      if (next === undefined) return;
      path.push(next);
      node = next;
    }
    node.ids.delete(id);
    // Prune the branch that only this binding kept alive, deepest node first, so the trie's size
    // follows the live bindings (RabbitMQ likewise deletes trie edges with no bindings below).
    for (let depth = compiled.words.length; depth > 0; depth--) {
      const child = path[depth];
      const parent = path[depth - 1];
      const word = compiled.words[depth - 1];
      if (child === undefined || parent === undefined || word === undefined) return;
      if (!child.isEmpty()) return;
      if (word === "*") parent.star = undefined;
      else if (word === "#") parent.hash = undefined;
      else parent.children.delete(word);
      this.nodes--;
    }
  }

  match(message: RoutableMessage, out: Set<string>): void {
    const words = splitTopicKey(message.routingKey);
    const n = words.length;
    // A state is (node, number of words consumed). Different `#` choices reach the same state
    // many times ("#.*.#.*" against a long key); visiting each state once keeps routing at
    // O(nodes * words) instead of exponential. These are per-publish scratch values, dropped on
    // return, so nothing grows across publishes.
    const visited = new Set<number>();
    const nodes: TrieNode[] = [this.root];
    const positions: number[] = [0];
    for (;;) {
      const node = nodes.pop();
      const pos = positions.pop();
      if (node === undefined || pos === undefined) return;
      const state = node.serial * (n + 1) + pos;
      if (visited.has(state)) continue;
      visited.add(state);

      // `#` may match zero words: try what follows it without consuming anything.
      if (node.hash !== undefined) {
        nodes.push(node.hash);
        positions.push(pos);
      }
      if (pos === n) {
        for (const id of node.ids) out.add(id);
        continue;
      }
      const word = words[pos];
      if (word === undefined) continue;
      // Inside a `#`, swallow one more word and stay on the same node.
      if (node.isHash) {
        nodes.push(node);
        positions.push(pos + 1);
      }
      if (node.star !== undefined) {
        nodes.push(node.star);
        positions.push(pos + 1);
      }
      const literal = node.children.get(word);
      if (literal !== undefined) {
        nodes.push(literal);
        positions.push(pos + 1);
      }
    }
  }
}

/** Narrows createIndex to the concrete index so callers (and tests) can read `nodeCount`. */
export interface TopicExchangeType extends ExchangeType<TopicBinding> {
  createIndex(): TopicIndex;
}

export const topicExchange: TopicExchangeType = {
  name: "topic",
  compile(bindingKey) {
    return { ok: true, compiled: compileTopicKey(bindingKey) };
  },
  createIndex() {
    return new TopicIndex();
  },
};

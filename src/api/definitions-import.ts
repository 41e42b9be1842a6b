/**
 * POST /api/definitions: all or nothing. Everything in the file is validated first (names,
 * hashes, regexes, exchange types, arguments, references between users, vhosts and objects) and
 * every vhost's catalog checks its part against what it holds (equivalence, queue limit, binding
 * ends) before anything changes; only then are vhosts created, the registry updated in one
 * transaction, and each vhost's topology declared. A file that fails validation changes nothing.
 * What cannot be made atomic is a platform failure between those steps (one Durable Object
 * call failing after others succeeded); re-importing the same file then completes it, since
 * every step is idempotent.
 *
 * Plain `password` fields (allowed in RabbitMQ's files) are hashed with PBKDF2 here. Policies
 * and runtime parameters other than vhost limits are refused: this broker has none, and an
 * import that silently dropped them would not reproduce the file.
 */

import {
  checkPasswordHash,
  hashPassword,
  NATIVE_ALGORITHM,
  RABBIT_SHA256,
} from "../access/passwords";
import { checkPermissionRegex } from "../access/permission-regex";
import { parseTags } from "../access/tags";
import { patternProblem } from "../catalog/policy-catalog";
import type { Topology } from "../catalog/topology-check";
import { BrokerError, type Failure, unwrap } from "../errors";
import { forgetAccess } from "../gateway/access-cache";
import { registryStub, vhostStub } from "../gateway/stubs";
import { isBuiltinExchange } from "../protocol/builtin-exchanges";
import { checkExchangeArguments, checkQueueArguments } from "../protocol/declarations";
import {
  type DefinitionsFile,
  definitionsSchema,
  VHOST_LIMITS_COMPONENT,
} from "../protocol/definitions";
import { checkName, checkRoutingKey, isReservedName } from "../protocol/names";
import { parsePolicy } from "../protocol/policies";
import {
  type RegistryDefinitions,
  type UserRecord,
  VHOST_LIMIT_NAMES,
  type VhostLimits,
  type VhostRecord,
} from "../protocol/registry-records";
import { checkStreamArguments, isStreamDeclaration } from "../protocol/stream";
import { isDeclarableType } from "../routing/delayed";
import { parseWith, readJson } from "./body";
import type { AppContext } from "./context";

const MAX_DEFINITIONS_BYTES = 16 * 1024 * 1024;

function check(failure: Failure | null, where: string): void {
  if (failure) throw new BrokerError(failure.code, `${where}: ${failure.reason}`);
}

function tagsOf(value: unknown, where: string): string[] {
  const tags = parseTags(value);
  if (!Array.isArray(tags)) throw new BrokerError("bad_request", `${where}: ${tags.reason}`);
  return tags;
}

async function planUsers(file: DefinitionsFile): Promise<UserRecord[]> {
  const users: UserRecord[] = [];
  for (const [i, user] of file.users.entries()) {
    const where = `users.${i}`;
    check(checkName("user", user.name), where);
    let password_hash = user.password_hash ?? "";
    let hashing_algorithm = user.hashing_algorithm ?? RABBIT_SHA256;
    if (user.password !== undefined && user.password_hash === undefined) {
      password_hash = await hashPassword(user.password);
      hashing_algorithm = NATIVE_ALGORITHM;
    }
    check(checkPasswordHash(password_hash, hashing_algorithm), where);
    users.push({
      name: user.name,
      password_hash,
      hashing_algorithm,
      tags: tagsOf(user.tags, where),
      limits: user.limits,
    });
  }
  return users;
}

function planLimits(file: DefinitionsFile): Map<string, VhostLimits> {
  const limits = new Map<string, VhostLimits>();
  for (const [i, parameter] of file.parameters.entries()) {
    if (parameter.component !== VHOST_LIMITS_COMPONENT) {
      throw new BrokerError(
        "bad_request",
        `parameters.${i}: runtime parameter component '${parameter.component}' is not supported`,
      );
    }
    const value = parameter.value as Record<string, unknown> | null;
    const entries = value && typeof value === "object" ? Object.entries(value) : null;
    const valid =
      entries?.every(
        ([name, n]) =>
          (VHOST_LIMIT_NAMES as readonly string[]).includes(name) && Number.isInteger(n),
      ) ?? false;
    if (!valid) {
      throw new BrokerError("bad_request", `parameters.${i}: invalid vhost limits`);
    }
    limits.set(parameter.vhost, { ...limits.get(parameter.vhost), ...(value as VhostLimits) });
  }
  return limits;
}

function planTopologies(file: DefinitionsFile, knownVhost: (v: string) => boolean) {
  const topologies = new Map<
    string,
    {
      exchanges: Topology["exchanges"][number][];
      queues: Topology["queues"][number][];
      bindings: Topology["bindings"][number][];
      policies: NonNullable<Topology["policies"]>[number][];
    }
  >();
  const of = (vhost: string, where: string) => {
    if (!knownVhost(vhost))
      throw new BrokerError("bad_request", `${where}: vhost '${vhost}' does not exist`);
    let topology = topologies.get(vhost);
    if (!topology) {
      topology = { exchanges: [], queues: [], bindings: [], policies: [] };
      topologies.set(vhost, topology);
    }
    return topology;
  };
  for (const [i, e] of file.exchanges.entries()) {
    const where = `exchanges.${i}`;
    check(checkName("exchange", e.name), where);
    const type = e.type;
    if (!isDeclarableType(type))
      throw new BrokerError("bad_request", `${where}: unknown exchange type '${type}'`);
    if (isReservedName(e.name) && !isBuiltinExchange(e.name)) {
      throw new BrokerError(
        "access_refused",
        `${where}: exchange name '${e.name}' contains reserved prefix 'amq.*'`,
      );
    }
    check(checkExchangeArguments(type, e.arguments), where);
    of(e.vhost, where).exchanges.push({ ...e, type });
  }
  for (const [i, q] of file.queues.entries()) {
    const where = `queues.${i}`;
    check(checkName("queue", q.name), where);
    if (isReservedName(q.name)) {
      throw new BrokerError(
        "access_refused",
        `${where}: queue name '${q.name}' contains reserved prefix 'amq.*'`,
      );
    }
    check(checkQueueArguments(q.arguments, q.name, q.vhost), where);
    if (isStreamDeclaration(q.arguments)) check(checkStreamArguments(q.arguments), where);
    of(q.vhost, where).queues.push({ ...q, exclusive: false });
  }
  const policyLists = [
    { kind: "policy", key: "policies", list: file.policies },
    { kind: "operator_policy", key: "operator_policies", list: file.operator_policies },
  ] as const;
  for (const { kind, key, list } of policyLists) {
    for (const [i, entry] of list.entries()) {
      const where = `${key}.${i}`;
      const fields = (entry ?? {}) as { vhost?: unknown; name?: unknown };
      if (typeof fields.vhost !== "string" || typeof fields.name !== "string") {
        throw new BrokerError("bad_request", `${where}: a policy needs a vhost and a name`);
      }
      check(checkName("queue", fields.name), where);
      const policy = parsePolicy(kind, fields.vhost, fields.name, entry, patternProblem);
      if ("ok" in policy) throw new BrokerError("bad_request", `${where}: ${policy.reason}`);
      of(policy.vhost, where).policies.push({ kind, policy });
    }
  }
  for (const [i, b] of file.bindings.entries()) {
    const where = `bindings.${i}`;
    check(checkName("exchange", b.source), where);
    check(checkName(b.destination_type, b.destination), where);
    check(checkRoutingKey(b.routing_key), where);
    of(b.vhost, where).bindings.push({
      source: b.source,
      destinationType: b.destination_type,
      destination: b.destination,
      routingKey: b.routing_key,
      arguments: b.arguments,
    });
  }
  return topologies;
}

/**
 * A file imported into one vhost (`POST /api/definitions/{vhost}`), as RabbitMQ does it: its
 * exchanges, queues, bindings and vhost limits go to that vhost whatever vhost they name (an
 * export of another vhost loads as is); users, vhosts and permissions in it are ignored.
 */
function intoVhost(raw: unknown, vhost: string): unknown {
  if (raw === null || typeof raw !== "object" || Array.isArray(raw)) return raw;
  const file = raw as Record<string, unknown>;
  const retarget = (key: string) =>
    Array.isArray(file[key])
      ? (file[key] as unknown[]).map((entry) =>
          entry !== null && typeof entry === "object" ? { ...entry, vhost } : entry,
        )
      : file[key];
  return {
    parameters: retarget("parameters"),
    policies: retarget("policies"),
    operator_policies: retarget("operator_policies"),
    exchanges: retarget("exchanges"),
    queues: retarget("queues"),
    bindings: retarget("bindings"),
  };
}

export async function importDefinitions(c: AppContext, vhost?: string): Promise<void> {
  const raw = await readJson(c, MAX_DEFINITIONS_BYTES);
  const file = parseWith(definitionsSchema, vhost === undefined ? raw : intoVhost(raw, vhost));
  const registry = registryStub(c.env);
  const [{ users: existingUsers }, { vhosts: existingVhosts }] = await Promise.all([
    registry.listUsers().then(unwrap),
    registry.listVhosts().then(unwrap),
  ]);
  const users = await planUsers(file);
  const limits = planLimits(file);

  const current = new Map(existingVhosts.map((v) => [v.name, v]));
  const vhosts: VhostRecord[] = file.vhosts.map((v, i) => {
    check(checkName("vhost", v.name), `vhosts.${i}`);
    const before = current.get(v.name);
    const tags = v.tags ?? v.metadata?.tags;
    return {
      name: v.name,
      description: v.description ?? v.metadata?.description ?? before?.description ?? "",
      tags: tags === undefined ? (before?.tags ?? []) : tagsOf(tags, `vhosts.${i}`),
      default_queue_type: v.default_queue_type ?? before?.default_queue_type ?? "classic",
      limits: { ...before?.limits, ...limits.get(v.name) },
    };
  });
  for (const [name, extra] of limits) {
    const before = current.get(name);
    if (before && !vhosts.some((v) => v.name === name)) {
      vhosts.push({ ...before, limits: { ...before.limits, ...extra } });
    }
  }
  const fileVhosts = new Set(vhosts.map((v) => v.name));
  const knownVhost = (name: string) => fileVhosts.has(name) || current.has(name);
  const knownUser = (name: string) =>
    users.some((u) => u.name === name) || existingUsers.some((u) => u.name === name);

  for (const [vhost] of limits) {
    if (!knownVhost(vhost))
      throw new BrokerError("bad_request", `parameters: vhost '${vhost}' does not exist`);
  }
  const grants = [
    ...file.permissions.map((p, i) => ({
      p,
      where: `permissions.${i}`,
      regexes: [p.configure, p.write, p.read],
    })),
    ...file.topic_permissions.map((p, i) => ({
      p,
      where: `topic_permissions.${i}`,
      regexes: [p.write, p.read],
    })),
  ];
  for (const { p, where, regexes } of grants) {
    if (!knownUser(p.user))
      throw new BrokerError("bad_request", `${where}: user '${p.user}' does not exist`);
    if (!knownVhost(p.vhost))
      throw new BrokerError("bad_request", `${where}: vhost '${p.vhost}' does not exist`);
    for (const regex of regexes) check(checkPermissionRegex(regex), where);
  }
  const topologies = planTopologies(file, knownVhost);

  // Every vhost's catalog checks its part before anything changes anywhere.
  for (const [vhost, topology] of topologies) {
    unwrap(await vhostStub(c.env, vhost).checkTopology(vhost, topology));
  }

  // Apply: catalogs exist before the registry lists their vhosts (as PUT /api/vhosts does).
  for (const vhost of vhosts) unwrap(await vhostStub(c.env, vhost.name).createVhost(vhost.name));
  const definitions: RegistryDefinitions = {
    users,
    vhosts,
    permissions: file.permissions,
    topic_permissions: file.topic_permissions,
  };
  unwrap(await registry.importDefinitions(definitions));
  forgetAccess();
  for (const vhost of vhosts) {
    unwrap(await vhostStub(c.env, vhost.name).setLimits(vhost.name, vhost.limits));
  }
  for (const [vhost, topology] of topologies) {
    unwrap(await vhostStub(c.env, vhost).importTopology(vhost, topology));
  }
}

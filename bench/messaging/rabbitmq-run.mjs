// bench/run.mjs's comparison: the same messaging scenarios against RabbitMQ on this machine, when
// it is installed (a private node, lib/rabbitmq.mjs), with checks that the node and its epmd
// were stopped.

import { HOST } from "../lib/common.mjs";
import { findRabbitMQ, startRabbitMQ, stopRabbitMQ } from "../lib/rabbitmq.mjs";
import { rabbitAdapter } from "./rabbitmq-adapter.mjs";
import { runMessagingSuite } from "./suite.mjs";

/**
 * The messaging suite against a private RabbitMQ node (started and stopped here), or why it was
 * skipped: { results, checks, version, server } / { skipped, checks } / { error, checks }.
 */
export async function compareWithRabbitMQ({ seconds, warmupMs }) {
  const found = findRabbitMQ();
  if (found.skip) {
    console.log(found.skip);
    return { skipped: found.skip, checks: [] };
  }
  const checks = [];
  let adapter = null;
  let out = { checks };
  try {
    const { node, startupMs } = await startRabbitMQ(found);
    console.log(
      `RabbitMQ ${node.version} (${found.server}) up on ${HOST}:${node.port} after ` +
        `${(startupMs / 1000).toFixed(1)} s (pid ${node.pid}, node bench@localhost)`,
    );
    console.log("measuring RabbitMQ with amqplib:");
    adapter = rabbitAdapter(node);
    const suite = await runMessagingSuite(adapter, { seconds, warmupMs });
    checks.push(...suite.checks);
    out = { ...suite, checks, version: node.version, server: found.server };
  } catch (e) {
    console.error(`RabbitMQ comparison failed: ${e?.stack ?? e}`);
    out.error = String(e?.message ?? e).split("\n")[0];
    checks.push({ what: "RabbitMQ: comparison ran", ok: false, warnOnly: true, detail: out.error });
  } finally {
    await adapter?.close().catch(() => {});
    const stop = await stopRabbitMQ();
    checks.push({
      what: "RabbitMQ: the node started here and its epmd stopped",
      ok: stop.left.length === 0,
      detail:
        stop.left.length === 0
          ? `${stop.ctl ?? "not running"}; no process left of ${stop.stopped?.length ?? 0}`
          : `still running: pids ${stop.left.join(", ")}`,
    });
  }
  return out;
}

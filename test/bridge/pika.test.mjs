// pika (Debian's python3-pika) against the AMQP bridge: the same wire protocol from another
// client library. Skips, saying so, when /usr/bin/python3 cannot import pika.
//
//   npm run test:bridge

import assert from "node:assert/strict";
import { execFile, spawnSync } from "node:child_process";
import path from "node:path";
import { after, before, test } from "node:test";
import { fileURLToPath } from "node:url";
import { createUser, startStack } from "./support.mjs";

const PYTHON = process.env.PIKA_PYTHON || "/usr/bin/python3";
const SCRIPT = path.join(path.dirname(fileURLToPath(import.meta.url)), "pika-client.py");
const probe = spawnSync(PYTHON, ["-c", "import pika"], { encoding: "utf8" });
const skip =
  probe.status === 0
    ? false
    : `${PYTHON} cannot import pika: apt-get install python3-pika to run this test`;
if (skip) console.log(`skipping the pika test: ${skip}`);

let stack;

before(async () => {
  if (skip) return;
  stack = await startStack({ prefix: "bridge-pika-" });
  await createUser(stack, "pika-user", "pika-pass", "pika-vhost");
});

after(async () => {
  await stack?.stop();
});

/** Runs the pika script without blocking this process, which serves the bridge. */
function runPika(port) {
  return new Promise((resolve) => {
    execFile(
      PYTHON,
      [SCRIPT, String(port)],
      { timeout: 90_000, killSignal: "SIGKILL" },
      (error, stdout, stderr) => resolve({ status: error ? (error.code ?? 1) : 0, stdout, stderr }),
    );
  });
}

test("pika connects, declares, publishes with confirms, gets, consumes and sees errors", {
  skip,
  timeout: 120_000,
}, async () => {
  const run = await runPika(stack.bridge.port);
  assert.equal(run.status, 0, `pika script failed:\n${run.stderr}`);
  const out = JSON.parse(run.stdout.trim().split("\n").at(-1));
  assert.match(out.wrong_password, /refused|403/);
  // pika raises ProbableAccessDeniedError(530, text) for a close during connection.open.
  assert.match(
    String(out.vhost_refused),
    /\(530\) "NOT_ALLOWED - access to vhost .*refused for user .*pika-user/,
  );
  assert.deepEqual(out.declare, ["pika-q", 0, 0]);
  assert.deepEqual(out.unroutable, ["returned", 1]);
  assert.deepEqual(out.get, {
    body: '{"n": 0}',
    message_count: 4,
    redelivered: false,
    content_type: "application/json",
    delivery_mode: 2,
    priority: 3,
    correlation_id: "c-1",
    timestamp: 1700000000,
    headers: { "h-str": "v", "h-int": 7, "h-list": [1, "a"], "h-table": { k: true } },
  });
  assert.deepEqual(out.consumed, [
    [0, true],
    [1, false],
    [2, false],
    [3, false],
    [4, false],
  ]);
  assert.equal(out.passive_missing[0], 404);
  assert.match(out.passive_missing[1], /NOT_FOUND - no queue 'pika-missing' in vhost '\/'/);
  assert.equal(out.inequivalent[0], 406);
});

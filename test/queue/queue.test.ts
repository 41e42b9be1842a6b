/**
 * A queue's logic (src/queue/), driven directly over a real queue object's SQLite. Each module's
 * tests are in test/queue/<module>.suite.ts, mirroring src/queue/<module>.ts; they run from this
 * one file because a test file costs a Workers runtime start of its own (seconds each).
 */
import "./queue-engine.suite";
import "./consumers.suite";
import "./dispatch-budget.suite";
import "./pull-waiters.suite";

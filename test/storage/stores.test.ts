/**
 * Every store of src/storage/, driven directly against a real object's SQLite. Each store's
 * tests are in test/storage/<store>.suite.ts, mirroring src/storage/<store>.ts; they run from
 * this one file because a test file costs a Workers runtime start of its own (seconds each).
 */
import "./sql.suite";
import "./meta-store.suite";
import "./message-store.suite";
import "./consumer-store.suite";
import "./queue-meta-store.suite";
import "./catalog-store.suite";
import "./connection-store.suite";
import "./queue-report-store.suite";
import "./exchange-store.suite";
import "./delayed-store.suite";
import "./topic-store.suite";
import "./registry-store.suite";
import "./inbox-store.suite";
import "./stream-store.suite";
import "./group-store.suite";

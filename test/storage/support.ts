/**
 * Runs a store against the SQLite of a fresh Durable Object of the class that owns it: the
 * object's constructor has applied its migrations, so the store sees exactly the schema it has in
 * production. Each test names its own object, so tests share no rows.
 */
import { runInDurableObject } from "cloudflare:test";

export function inObject<O extends Rpc.DurableObjectBranded, T>(
  namespace: DurableObjectNamespace<O>,
  name: string,
  body: (sql: SqlStorage, storage: DurableObjectStorage) => T,
): Promise<T> {
  const stub = namespace.get(namespace.idFromName(`store-test:${name}`));
  return runInDurableObject(stub, (_instance, state) => body(state.storage.sql, state.storage));
}

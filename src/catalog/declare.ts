/**
 * Declaring an exchange or a queue: an existing one must be equivalent (RabbitMQ's
 * PRECONDITION_FAILED otherwise) and is left as it is; a new one is configured in its own object
 * first and recorded in the catalog after, so a failed call leaves no catalog entry behind.
 */
import type { Result } from "../errors";
import { exchangeStub, queueStub, streamStub } from "../gateway/stubs";
import {
  type ExchangeDeclaration,
  exchangeEquivalence,
  type QueueDeclaration,
  queueEquivalence,
} from "../protocol/declarations";
import { isStreamDeclaration } from "../protocol/stream";
import type { CatalogContext } from "./catalog-context";
import { queueLimitFailure } from "./vhost-limits";

export async function declareExchange(
  { env, store }: CatalogContext,
  declaration: ExchangeDeclaration,
): Promise<Result<{ created: boolean }>> {
  const current = store.getExchange(declaration.name);
  if (current) {
    const mismatch = exchangeEquivalence(current, declaration);
    return mismatch ?? { ok: true, created: false };
  }
  await exchangeStub(env, declaration.vhost, declaration.name).configure(declaration);
  store.putExchange(declaration);
  return { ok: true, created: true };
}

export async function declareQueue(
  { env, store }: CatalogContext,
  declaration: QueueDeclaration,
): Promise<Result<{ created: boolean }>> {
  const current = store.getQueue(declaration.name);
  if (current) {
    const mismatch = queueEquivalence(current, declaration);
    return mismatch ?? { ok: true, created: false };
  }
  const overLimit = queueLimitFailure(store, declaration.vhost, 1);
  if (overLimit) return overLimit;
  // A stream queue is a log in its own kind of object (docs/streams.md).
  const target = isStreamDeclaration(declaration.arguments)
    ? streamStub(env, declaration.vhost, declaration.name)
    : queueStub(env, declaration.vhost, declaration.name);
  await target.configure(declaration);
  store.putQueue(declaration);
  return { ok: true, created: true };
}

/**
 * Calls `fn` for every item with at most `limit` calls in flight, answers in item order. A list
 * or an overview over thousands of queues asks each queue object; firing them all at once from
 * one request holds thousands of subrequests open together, which the runtime does not take well.
 */
export async function mapLimited<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const index = next++;
      results[index] = await fn(items[index] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

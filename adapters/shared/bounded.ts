/**
 * Runs `fn` over `items` with at most `limit` calls in flight, and settles only when every call
 * has: a sink's next pass must never overlap writes of the one that failed. The first error is
 * thrown after that; the items not yet started when it happened are skipped.
 */
export async function forEachBounded<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  let failed: { readonly err: unknown } | undefined;
  const worker = async (): Promise<void> => {
    while (failed === undefined && next < items.length) {
      const item = items[next++] as T;
      try {
        await fn(item);
      } catch (err) {
        failed ??= { err };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  if (failed !== undefined) throw failed.err;
}

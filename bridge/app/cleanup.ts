import type { ServiceRef } from '../model/index.ts';
import { removeOwned } from '../ports/index.ts';
import type { Config, Logger } from '../runtime/index.ts';
import { childLogger } from '../runtime/index.ts';
import type { CleanupReport } from '../sync/index.ts';
import { buildParts, closeParts, partsAbort, type AdapterKinds } from './build.ts';

export interface CleanupOptions {
  readonly logger: Logger;
  readonly dryRun: boolean;
}

/**
 * Removes every record this bridge id owns in every configured registry that can be written,
 * and nothing else (each sink's `remove` touches owned records only). The end of a migration.
 */
export async function cleanupBridge(config: Config, kinds: AdapterKinds, options: CleanupOptions): Promise<CleanupReport> {
  const log = options.logger;
  const parts = buildParts(config, kinds, (registry) => childLogger(log, { component: 'adapter', registry }));
  const abort = partsAbort();
  try {
    const removed: { sink: string; refs: ServiceRef[] }[] = [];
    for (const sink of parts.allSinks) {
      await sink.start(abort.signal);
      const refs = [...(await sink.ownedRefs())];
      for (const [i, ref] of refs.entries()) {
        if (!options.dryRun) await removeOwned(sink, ref);
        if (!options.dryRun && (i + 1) % 100 === 0) log.info({ sink: sink.id, done: i + 1, of: refs.length }, 'cleanup progress');
      }
      if (!options.dryRun && sink.retire !== undefined) await sink.retire();
      removed.push({ sink: sink.id, refs });
    }
    return { bridgeId: config.bridge.id, removed, dryRun: options.dryRun };
  } finally {
    abort.abort();
    await closeParts(parts);
  }
}

import type { CatalogEntry } from '../catalog/index.ts';
import type { RegistryId, ServiceRef } from '../model/index.ts';
import type { MigrationStore } from '../ports/index.ts';
import type { MigrationAccess } from '../resolver/index.ts';
import type { Config } from '../runtime/index.ts';
import type { EngineLogger, ServiceExplain, Weights } from '../sync/index.ts';
import type { BridgeParts } from './build.ts';
import { MigrationFollower } from './migration-follower.ts';
import { MigrationStatusWriter } from './migration-status-writer.ts';

const START_WAIT_MS = 15_000;

function delay<T>(ms: number, value: T): Promise<T> {
  return new Promise((resolve) => { setTimeout(resolve, ms, value).unref(); });
}

/** ServiceMigration support of one running bridge: follow the objects, and (leader) report status. */
export interface Migrations {
  /** For the resolver: writes splits through the objects, reports a service's migration. */
  readonly access: MigrationAccess;
  /** Starts the status writer once the engine and catalog exist. */
  report(deps: {
    readonly catalog: { get(ref: ServiceRef): CatalogEntry | undefined };
    readonly engine: { explain(ref: ServiceRef): ServiceExplain };
    readonly isLeader: () => boolean;
  }): void;
  stop(): void;
}

/**
 * Reads ServiceMigration objects before the engine starts, so the first reconcile after a
 * restart already uses their splits (a restart writes nothing). Undefined when no registry
 * hosts them (no Kubernetes registry): splits then live in config and memory.
 */
export async function startMigrations(
  parts: BridgeParts,
  config: Config,
  weights: Weights,
  signal: AbortSignal,
  logger: EngineLogger,
): Promise<Migrations | undefined> {
  const hosts = [...parts.adapters.entries()].filter(([, a]) => a.migrations !== undefined);
  if (hosts.length > 1) logger.warn({ registries: hosts.map(([id]) => id) }, 'several Kubernetes registries host ServiceMigration objects; following the first');
  const store: MigrationStore | undefined = hosts[0]?.[1].migrations;
  if (store === undefined) return undefined;
  // An apiserver that does not answer must not keep the resolver down: after a while the
  // config's splits apply, and the objects' take over as soon as the list arrives.
  const listed = await Promise.race([store.start(signal).then(() => true), delay(START_WAIT_MS, false)]);
  if (!listed) logger.warn({ waitedMs: START_WAIT_MS }, 'ServiceMigration objects not listed yet; starting with the config file\'s splits');
  const available = store.available();
  if (!available.ok) logger.warn({ reason: available.reason }, 'ServiceMigration objects unavailable: splits come from the config file, and `isthmus weight` changes this replica\'s memory only');
  const follower = new MigrationFollower(store, weights, logger);
  const offFollower = follower.start();
  const kube = new Set<RegistryId>(Object.entries(config.registries).filter(([, r]) => r.kind === 'kubernetes').map(([id]) => id));
  let writer: MigrationStatusWriter | undefined;
  return {
    access: {
      store,
      report: (ref) => writer?.report(ref) ?? {},
    },
    report(deps) {
      writer = new MigrationStatusWriter({ store, follower, weights, kube, logger, ...deps });
      writer.start();
    },
    stop() {
      writer?.stop();
      offFollower();
    },
  };
}

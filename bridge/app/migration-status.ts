import type { CatalogEntry } from '../catalog/index.ts';
import type { RegistryId } from '../model/index.ts';
import type { Migration } from '../ports/index.ts';
import type { MigrationCondition, MigrationStatus } from '../runtime/index.ts';
import type { ServiceExplain, SplitOrigin } from '../sync/index.ts';
import type { Split } from '../sync/split.ts';

/** What one service's ServiceMigration status is computed from. */
export interface MigrationStatusInput {
  readonly migration: Migration;
  /** The split in force and its layer (a ServiceMigration's own, or the config's as fallback). */
  readonly split: Split | undefined;
  readonly splitFrom: SplitOrigin | undefined;
  /** Why the object's own split is not used (bad spec, unknown registry, a second object). */
  readonly problem: string | undefined;
  /** The merged service with the split applied (resolver answers); absent when no registry has it. */
  readonly entry: CatalogEntry | undefined;
  readonly explain: ServiceExplain;
  /** When each sink last changed this service (epoch ms), as the status writer has seen. */
  readonly lastWrites: ReadonlyMap<RegistryId, number>;
  /** Registries of kind kubernetes: the migration's destination; every other one is a VM registry. */
  readonly kube: ReadonlySet<RegistryId>;
  readonly now: number;
}

type Origins = NonNullable<MigrationStatus['origins']>;
type Sinks = NonNullable<MigrationStatus['sinks']>;

/**
 * The status subresource of one ServiceMigration. Pure: the writer compares the result with
 * what the object holds and writes only a difference, so `lastTransitionTime` is carried over
 * from the previous status while a condition keeps its value.
 */
export function migrationStatus(i: MigrationStatusInput): MigrationStatus {
  const origins = originsOf(i.entry);
  const sinks = sinksOf(i);
  const held = i.explain.targets.reduce((n, t) => n + (t.held?.endpoints ?? 0), 0);
  const lastAt = Math.max(0, ...i.explain.targets.map((t) => t.at));
  const previous = i.migration.status?.conditions ?? [];
  const conditions = [
    condition(previous, i.now, 'SplitApplied', ...splitCondition(i)),
    condition(previous, i.now, 'Synced', ...syncedCondition(i)),
    ...(i.migration.phase === 'done' ? [condition(previous, i.now, 'Done', ...doneCondition(i, origins))] : []),
  ];
  return {
    observedGeneration: i.migration.generation,
    service: `${i.migration.ref.namespace}/${i.migration.ref.name}`,
    split: i.split === undefined ? 'none' : `${splitText(i.split)}${i.splitFrom === 'migration' ? '' : ` (${i.splitFrom ?? 'none'})`}`,
    ready: Object.entries(origins).map(([id, o]) => `${id} ${o.ready}/${o.total}`).join(', ') || 'no instances',
    origins,
    sinks,
    heldDeletions: held,
    quarantined: i.explain.quarantined.length,
    ...(lastAt > 0 ? { lastSync: new Date(lastAt).toISOString() } : {}),
    conditions,
  };
}

/** `k8s=10 vm=90`: sorted, because the apiserver hands the map back in key order anyway. */
export function splitText(split: Split): string {
  return Object.keys(split).sort().map((id) => `${id}=${split[id]}`).join(' ');
}

function originsOf(entry: CatalogEntry | undefined): Origins {
  const out: Record<string, { ready: number; total: number; weight: number }> = {};
  for (const ep of entry?.endpoints ?? []) {
    const o = (out[ep.origin.registry] ??= { ready: 0, total: 0, weight: 0 });
    o.total += 1;
    if (ep.ready) {
      o.ready += 1;
      o.weight += ep.weight;
    }
  }
  const sum = Object.values(out).reduce((n, o) => n + o.weight, 0);
  const sorted = Object.keys(out).sort();
  return Object.fromEntries(sorted.map((id) => {
    const o = out[id] ?? { ready: 0, total: 0, weight: 0 };
    return [id, { ...o, share: sum === 0 ? 0 : Math.round((o.weight / sum) * 1000) / 10 }];
  }));
}

function sinksOf(i: MigrationStatusInput): Sinks {
  const out: Record<string, Sinks[string]> = {};
  for (const t of i.explain.targets) {
    const at = i.lastWrites.get(t.sink) ?? lastWriteOf(i.migration, t.sink);
    out[t.sink] = {
      endpoints: t.desiredEndpoints,
      state: t.outcome === 'applied' || t.outcome === 'removed' ? 'in-sync' : t.outcome,
      ...(at === undefined ? {} : { lastWrite: typeof at === 'number' ? new Date(at).toISOString() : at }),
    };
  }
  return out;
}

function lastWriteOf(m: Migration, sink: RegistryId): string | undefined {
  return m.status?.sinks?.[sink]?.lastWrite;
}

type Verdict = [status: MigrationCondition['status'], reason: string, message: string];

function splitCondition(i: MigrationStatusInput): Verdict {
  if (i.problem !== undefined) return ['False', 'InvalidSplit', i.problem];
  if (i.migration.split === undefined) {
    return ['False', 'NoSplit', i.split === undefined ? 'spec.split is not set and the config file has none: registry weights apply' : `spec.split is not set: the config file's split applies (${splitText(i.split)})`];
  }
  return ['True', 'Applied', `endpoint weights follow ${splitText(i.migration.split)} in resolver answers and in registries that carry weights`];
}

function syncedCondition(i: MigrationStatusInput): Verdict {
  const targets = i.explain.targets;
  if (targets.length === 0) return ['Unknown', 'NoRoute', 'no route carries this service to another registry'];
  const held = targets.filter((t) => t.held !== undefined);
  if (held.length > 0) return ['False', 'DeletionHeld', held.map((t) => `${t.sink}: ${t.held?.reason ?? 'held'}`).join('; ')];
  const failed = targets.filter((t) => t.outcome === 'error');
  if (failed.length > 0) return ['False', 'SyncFailed', failed.map((t) => `${t.sink}: ${t.error ?? 'failed'}`).join('; ')];
  const pending = targets.filter((t) => t.outcome === 'planned');
  if (pending.length > 0) return ['False', 'Pending', `not yet written to ${pending.map((t) => t.sink).join(', ')}`];
  return ['True', 'InSync', `written to ${targets.map((t) => t.sink).join(', ')}`];
}

function doneCondition(i: MigrationStatusInput, origins: Origins): Verdict {
  const serving = Object.entries(origins).filter(([id, o]) => !i.kube.has(id) && o.ready > 0).map(([id]) => id);
  if (serving.length > 0) return ['False', 'VmInstancesServing', `instances registered in ${serving.join(', ')} are still ready`];
  const exported = i.explain.targets.filter((t) => !i.kube.has(t.sink) && t.desiredEndpoints > 0).map((t) => t.sink);
  if (exported.length > 0) {
    return ['False', 'StillExported', `pods are still exported to ${exported.join(', ')}: take the service out of those routes once no VM consumer calls it`];
  }
  return ['True', 'Finished', 'no VM instance serves and no pod is exported to a VM registry: the migration is complete'];
}

function condition(previous: readonly MigrationCondition[], now: number, type: string, ...[status, reason, message]: Verdict): MigrationCondition {
  const before = previous.find((c) => c.type === type);
  const since = before?.status === status ? before.lastTransitionTime : new Date(now).toISOString();
  return { type, status, reason, message, lastTransitionTime: since };
}

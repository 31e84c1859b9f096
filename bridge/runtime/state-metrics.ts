import { Counter, Gauge, type Registry } from 'prom-client';
import type { RegistryId } from '../model/index.ts';

/**
 * Where the gauges are read from at each scrape. Separate readers rather than one summary, so a
 * scrape asks each part for what it needs once instead of building the whole status three times.
 */
export interface StateReaders {
  /** Whether this replica writes: the elector's view, or always true without election. */
  readonly leader: () => boolean;
  readonly sources: () => Iterable<{ readonly id: RegistryId; health(): { readonly reachable: boolean; readonly notices?: readonly { readonly code: string }[] } }>;
  /** The deletion guard's holds, as `/v1/status` lists them. */
  readonly held: () => Iterable<{ readonly since: number }>;
}

export interface StateMetrics {
  track(readers: StateReaders): void;
  /** Called on every change of leadership as the elector sees it, including ones between scrapes. */
  leadershipChanged(): void;
}

/**
 * Bridge state read at scrape time from what `/v1/status` also reads, so the gauges and the
 * status API never disagree and nothing is kept up to date between scrapes:
 * `isthmus_source_reachable{registry}`, `isthmus_export_mtls_strict{registry}`, `isthmus_leader`, `isthmus_held_oldest_seconds`; and
 * `isthmus_leader_changes_total`, which is counted as changes happen (a flap between two scrapes
 * would leave the gauge unchanged).
 */
export function registerStateMetrics(registers: Registry[], now: () => number = Date.now): StateMetrics {
  let read: StateReaders | undefined;

  new Gauge({
    name: 'isthmus_source_reachable',
    help: '1 while a source registry can be listed and watched, 0 while it cannot (its last known state is kept meanwhile).',
    labelNames: ['registry'] as const,
    registers,
    collect() {
      if (read === undefined) return;
      for (const s of read.sources()) this.set({ registry: s.id }, s.health().reachable ? 1 : 0);
    },
  });
  new Gauge({
    name: 'isthmus_export_mtls_strict',
    help: 'Exported services whose pods run STRICT mTLS (a PeerAuthentication), which refuses VM callers without a sidecar; `isthmus status` names them. Only sources with the mTLS preflight on.',
    labelNames: ['registry'] as const,
    registers,
    collect() {
      if (read === undefined) return;
      // Per registry, not per service: the names are in status, and a label per service would
      // grow the series with the cluster.
      for (const s of read.sources()) this.set({ registry: s.id }, (s.health().notices ?? []).filter((n) => n.code === 'mtls-strict').length);
    },
  });
  new Gauge({
    name: 'isthmus_leader',
    help: '1 while this replica is the writer (always without leader election), 0 while it stands by.',
    registers,
    collect() {
      if (read !== undefined) this.set(read.leader() ? 1 : 0);
    },
  });
  const changes = new Counter({
    name: 'isthmus_leader_changes_total',
    help: 'Times this replica became or stopped being the leader.',
    registers,
  });
  new Gauge({
    name: 'isthmus_held_oldest_seconds',
    help: 'Age of the oldest removal the deletion guard is holding, 0 when none is held.',
    registers,
    collect() {
      if (read === undefined) return;
      let oldest = Infinity;
      for (const h of read.held()) oldest = Math.min(oldest, h.since);
      this.set(oldest === Infinity ? 0 : Math.max(0, (now() - oldest) / 1000));
    },
  });

  return {
    track(readers) {
      read = readers;
    },
    leadershipChanged() {
      changes.inc();
    },
  };
}

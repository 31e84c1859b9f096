// Joins the two feeds into per-service rows: the catalog gives counts per origin registry, the
// status gives exports, holds, quarantine and splits. Kept apart from the views so each view
// reads the same numbers.
import { derivedPhase, refKey, sum } from './format.js';

/** Registries of kind kubernetes hold pods; every other kind is a VM registry. */
export function isPodRegistry(status, registry) {
  return status.kinds?.[registry] === 'kubernetes';
}

/** Index of status lists by service key, built once per draw. */
export function indexStatus(status) {
  const by = (list) => {
    const m = new Map();
    for (const item of list ?? []) {
      if (item.ref === undefined && item.namespace === undefined) continue;
      const key = item.ref === undefined ? refKey(item.namespace, item.name) : refKey(item.ref.namespace, item.ref.name);
      const arr = m.get(key) ?? [];
      arr.push(item);
      m.set(key, arr);
    }
    return m;
  };
  return { held: by(status.held), quarantined: by(status.quarantined), exports: by(status.exports), errors: by(status.errors) };
}

/**
 * One overview row.
 * @returns {{ key: string, namespace: string, name: string, vm: any[], pods: any[], vmSum: any, podSum: any,
 *   phase: string, split: any, exports: any[], lastSync: number, held: any[], quarantined: any[], errors: any[], registries: string[] }}
 */
export function serviceRow(service, status, idx) {
  const key = refKey(service.namespace, service.name);
  const vm = service.origins.filter((o) => !isPodRegistry(status, o.registry));
  const pods = service.origins.filter((o) => isPodRegistry(status, o.registry));
  const vmSum = sum(vm);
  const podSum = sum(pods);
  const exports = idx.exports.get(key) ?? [];
  let lastSync = 0;
  for (const e of exports) if (e.at > lastSync) lastSync = e.at;
  return {
    key,
    namespace: service.namespace,
    name: service.name,
    vm,
    pods,
    vmSum,
    podSum,
    phase: derivedPhase(vmSum, podSum),
    split: status.weights?.[key],
    exports,
    lastSync,
    held: idx.held.get(key) ?? [],
    quarantined: idx.quarantined.get(key) ?? [],
    errors: idx.errors.get(key) ?? [],
    registries: [...new Set([...service.registries, ...exports.map((e) => e.sink)])],
  };
}

/** Rows of every service, and of quarantined records whose service never reached the catalog. */
export function allRows(state) {
  const idx = indexStatus(state.status);
  return state.catalog.services.map((s) => serviceRow(s, state.status, idx));
}

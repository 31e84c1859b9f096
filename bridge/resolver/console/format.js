// Plain-text formatting shared by the views: times, counts and the derived migration phase.

/** "12 s ago", "3 min ago", or the date for older times; '' for none. */
export function ago(epochMs, now = Date.now()) {
  if (typeof epochMs !== 'number' || !Number.isFinite(epochMs) || epochMs <= 0) return '';
  const s = Math.max(0, Math.round((now - epochMs) / 1000));
  if (s < 90) return `${s} s ago`;
  if (s < 90 * 60) return `${Math.round(s / 60)} min ago`;
  if (s < 36 * 3600) return `${Math.round(s / 3600)} h ago`;
  return new Date(epochMs).toISOString().slice(0, 16).replace('T', ' ');
}

/** "in 42 s" for a future time, "due" once past. */
export function until(epochMs, now = Date.now()) {
  if (typeof epochMs !== 'number' || !Number.isFinite(epochMs)) return 'when the sources change';
  const s = Math.round((epochMs - now) / 1000);
  return s <= 0 ? 'due now' : `in ${s} s`;
}

export function iso(epochMs) {
  return typeof epochMs === 'number' && epochMs > 0 ? new Date(epochMs).toISOString() : '';
}

/** "vm=90 k8s=10" for a split object. */
export function splitText(split) {
  if (split === undefined || split === null) return '';
  return Object.entries(split).map(([k, v]) => `${k}=${v}`).join(' ');
}

/**
 * Where a service stands, from who serves it: only VM registries, both sides, or only pods.
 * The declared ServiceMigration phase (service page) is the operator's word; this is the data's.
 */
export function derivedPhase(vm, pods) {
  if (vm.total > 0 && pods.total > 0) return 'dual';
  if (pods.total > 0) return 'k8s-only';
  if (vm.total > 0) return 'vm-only';
  return 'empty';
}

/** Ready/total summed over origin counts. */
export function sum(origins) {
  let total = 0;
  let ready = 0;
  for (const o of origins) {
    total += o.total;
    ready += o.ready;
  }
  return { total, ready };
}

export function refKey(namespace, name) {
  return `${namespace}/${name}`;
}

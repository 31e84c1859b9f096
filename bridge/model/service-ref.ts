/** Identifies a configured registry connection, e.g. `k8s`, `nacos-prod`, `consul-dc1`. */
export type RegistryId = string;

/**
 * Canonical service identity shared by every registry. Each adapter maps its native identity to
 * this (DESIGN §6); the resolver and the sync engine never see native names.
 */
export interface ServiceRef {
  readonly namespace: string;
  readonly name: string;
}

/** `namespace/name`: the string form used as a map key, in URLs and in logs. */
export function refKey(ref: ServiceRef): string {
  return `${ref.namespace}/${ref.name}`;
}

/** Parses `namespace/name`; returns undefined for anything else so callers choose the error. */
export function parseRef(text: string): ServiceRef | undefined {
  const slash = text.indexOf('/');
  if (slash <= 0 || slash === text.length - 1 || text.indexOf('/', slash + 1) !== -1) return undefined;
  return { namespace: text.slice(0, slash), name: text.slice(slash + 1) };
}

export function sameRef(a: ServiceRef, b: ServiceRef): boolean {
  return a.namespace === b.namespace && a.name === b.name;
}

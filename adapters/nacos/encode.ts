import type { Endpoint, ServiceRef } from '../../bridge/model/index.ts';
import { DEFAULT_WEIGHT, conditionsOf, endpointKey, liveness } from '../../bridge/model/index.ts';
import type { NacosInstance } from './native.ts';

/** Model → Nacos instance (the sink direction), and back for `read`. Everything here is pure. */

export interface ExportSettings {
  readonly bridgeId: string;
  readonly portName: string;
  readonly cluster: string;
  /** Canonical namespace assumed for an owned record whose markers were stripped. */
  readonly namespace: string;
}

/** Instance metadata keys Isthmus owns on every exported instance (DESIGN §6). */
export const M = {
  managedBy: 'isthmus.managed-by',
  origin: 'isthmus.origin',
  originId: 'isthmus.origin-id',
  namespace: 'isthmus.ns',
  ports: 'isthmus.ports',
  conditions: 'isthmus.conditions',
  weight: 'isthmus.weight',
  protocol: 'isthmus.protocol',
  zone: 'isthmus.zone',
  node: 'isthmus.node',
} as const;
const PREFIX = 'isthmus.';
/** A user metadata key that itself starts with `isthmus.` is stored under this prefix, so it can never pose as a marker. */
const ESCAPED = 'isthmus.user.';

export function isIsthmusInstance(i: NacosInstance): boolean {
  return i.metadata?.[M.managedBy] !== undefined;
}

export function isOwned(i: NacosInstance, bridgeId: string): boolean {
  return i.metadata?.[M.managedBy] === bridgeId;
}

/** The port registered as the instance's port: the named one, else the lowest-named one. */
export function primaryPort(ep: Endpoint, portName: string): number {
  const named = ep.ports[portName];
  if (named !== undefined) return named;
  const first = Object.keys(ep.ports).sort()[0];
  return first === undefined ? 0 : ep.ports[first] ?? 0;
}

/**
 * `name=port,…` sorted by name. `%`, `,` and `=` in a name are %-escaped so no name can split
 * the list; Kubernetes port names (DNS labels) hold none of them, so they are stored as before.
 */
export function encodePorts(ports: Readonly<Record<string, number>>): string {
  return Object.keys(ports).sort().map((n) => `${n.replace(/[%,=]/g, escapeChar)}=${ports[n]}`).join(',');
}

function escapeChar(c: string): string {
  return `%${c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`;
}

function decodePorts(text: string | undefined): Record<string, number> | undefined {
  if (text === undefined || text === '') return undefined;
  const out: [string, number][] = [];
  for (const part of text.split(',')) {
    const eq = part.lastIndexOf('=');
    const port = Number(part.slice(eq + 1));
    // An unnamed port (`=8080`) is a real one: the model allows an empty port name.
    if (eq < 0 || !Number.isInteger(port)) return undefined;
    out.push([part.slice(0, eq).replace(/%(25|2C|3D)/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16))), port]);
  }
  return Object.fromEntries(out);
}

function encodeConditions(ep: Pick<Endpoint, 'ready' | 'serving' | 'terminating'>): string {
  return `${ep.ready ? 'r' : ''}${ep.serving ? 's' : ''}${ep.terminating ? 't' : ''}`;
}

/**
 * Nacos health of a model endpoint (DESIGN §5): ready → healthy+enabled; draining → enabled=false
 * (Nacos clients skip disabled instances, so callers stop at once while the pod still serves);
 * down → healthy=false.
 */
export function nacosHealth(ep: Endpoint): { healthy: boolean; enabled: boolean } {
  const state = liveness(ep);
  if (state === 'ready') return { healthy: true, enabled: true };
  return state === 'draining' ? { healthy: true, enabled: false } : { healthy: false, enabled: true };
}

export function toInstance(ref: ServiceRef, ep: Endpoint, s: ExportSettings, ephemeral: boolean): NacosInstance {
  // fromEntries, not assignment: a user key `__proto__` must stay a key, not reach the prototype.
  const metadata: Record<string, string> = Object.fromEntries(Object.entries(ep.metadata).map(([k, v]) => [k.startsWith(PREFIX) ? ESCAPED + k : k, v]));
  Object.assign(metadata, {
    [M.managedBy]: s.bridgeId,
    [M.origin]: ep.origin.registry,
    [M.originId]: ep.origin.nativeId,
    [M.namespace]: ref.namespace,
    [M.ports]: encodePorts(ep.ports),
    [M.conditions]: encodeConditions(ep),
    [M.weight]: String(ep.weight),
  });
  if (ep.protocol !== undefined) metadata[M.protocol] = ep.protocol;
  if (ep.zone !== undefined) metadata[M.zone] = ep.zone;
  if (ep.node !== undefined) metadata[M.node] = ep.node;
  return {
    ip: ep.address,
    port: primaryPort(ep, s.portName),
    weight: ep.weight / DEFAULT_WEIGHT,
    ...nacosHealth(ep),
    ephemeral,
    clusterName: s.cluster,
    metadata,
  };
}

/** An owned instance back as the endpoint we wrote; markers a registry stripped fall back to defaults. */
export function fromInstance(i: NacosInstance, s: ExportSettings): Endpoint {
  const meta = i.metadata ?? {};
  const user: [string, string][] = [];
  for (const [k, v] of Object.entries(meta)) {
    if (k.startsWith(ESCAPED)) user.push([k.slice(ESCAPED.length), v]);
    else if (!k.startsWith(PREFIX)) user.push([k, v]);
  }
  const metadata: Record<string, string> = Object.fromEntries(user);
  const cond = meta[M.conditions];
  const conditions = cond === undefined
    ? conditionsOf(i.healthy === false ? 'down' : i.enabled === false ? 'draining' : 'ready')
    : { ready: cond.includes('r'), serving: cond.includes('s'), terminating: cond.includes('t') };
  const weight = Number(meta[M.weight]);
  const protocol = meta[M.protocol];
  const zone = meta[M.zone];
  const node = meta[M.node];
  return {
    address: i.ip,
    ports: decodePorts(meta[M.ports]) ?? { [s.portName]: i.port },
    ...(protocol === undefined ? {} : { protocol }),
    ...conditions,
    weight: Number.isFinite(weight) && meta[M.weight] !== undefined ? weight : Math.round((i.weight ?? 1) * DEFAULT_WEIGHT),
    ...(zone === undefined ? {} : { zone }),
    ...(node === undefined ? {} : { node }),
    metadata,
    origin: { registry: meta[M.origin] ?? 'unknown', nativeId: meta[M.originId] ?? `${i.ip}:${i.port}` },
  };
}

/** The fields Nacos stores and returns, compared to decide whether a write is needed. */
function instanceKey(i: NacosInstance): string {
  // Code-unit order, not localeCompare: that calls canonically equal keys (NFC/NFD) equal and
  // would leave their order, and so the key, to chance — a write on every pass.
  const meta = Object.entries(i.metadata ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return JSON.stringify([i.ip, i.port, i.clusterName, i.weight ?? 1, i.healthy !== false, i.enabled !== false, meta]);
}

/** Same instances, in any order: then a batch write would change nothing. */
export function sameInstances(a: readonly NacosInstance[], b: readonly NacosInstance[]): boolean {
  if (a.length !== b.length) return false;
  const left = a.map(instanceKey).sort();
  const right = b.map(instanceKey).sort();
  return left.every((k, n) => k === right[n]);
}

/** Endpoints sorted as the engine compares them; the sink returns this order from read. */
export function sortEndpoints(eps: readonly Endpoint[]): Endpoint[] {
  return [...eps].sort((a, b) => endpointKey(a).localeCompare(endpointKey(b)));
}

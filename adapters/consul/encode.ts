import type { Endpoint, ServiceRef } from '../../bridge/model/index.ts';
import { DEFAULT_WEIGHT, MAX_WEIGHT, conditionsOf, instanceId, liveness } from '../../bridge/model/index.ts';
import { CONSUL_META_LIMITS, decodeMetaKey, encodeMetaKey } from './meta-keys.ts';
import type { NativeCheck, NativeService } from './native.ts';

/** Model → Consul (the sink direction), and back for `observe`. Everything here is pure. */

export interface ExportSettings {
  readonly bridgeId: string;
  readonly node: string;
  readonly portName: string;
  readonly zoneMetaKey: string;
  readonly drainingStatus: 'warning' | 'critical';
  readonly extraTags: readonly string[];
  /** Canonical namespace assumed for an owned record whose markers were stripped. */
  readonly namespace: string;
}

/** Meta keys Isthmus owns on every exported instance (DESIGN §6). */
export const M = {
  source: 'external-source',
  managedBy: 'isthmus-managed-by',
  origin: 'isthmus-origin',
  originId: 'isthmus-origin-id',
  namespace: 'isthmus-ns',
  ports: 'isthmus-ports',
  conditions: 'isthmus-conditions',
  weight: 'isthmus-weight',
  /**
   * The weight Spring Cloud LoadBalancer's weighted supplier reads (`Integer.parseInt` of Meta
   * `weight`, 1 when absent or unparsable), on the scale of `Weights.Passing`, which only DNS and
   * Consul's own callers read: without it a split never reaches Spring callers.
   */
  callerWeight: 'weight',
  protocol: 'isthmus-protocol',
  zone: 'isthmus-zone',
  node: 'isthmus-node',
  extra: 'isthmus-extra',
  dropped: 'isthmus-dropped',
} as const;
export const SOURCE_VALUE = 'isthmus';
export const TAG = 'isthmus';
const CHECK_NAME = 'Isthmus sync state';

/** A desired instance: the catalog service and its one check, both on the synthetic node. */
export interface Registration {
  readonly service: {
    readonly ID: string;
    readonly Service: string;
    readonly Tags: readonly string[];
    readonly Address: string;
    readonly Port: number;
    readonly Meta: Readonly<Record<string, string>>;
    readonly Weights: { readonly Passing: number; readonly Warning: number };
  };
  /** ServiceName matters beyond display: ACLs check service:write on it for a service check. */
  readonly check: { readonly CheckID: string; readonly Name: string; readonly Status: string; readonly ServiceID: string; readonly ServiceName: string; readonly Output: string };
  /** Metadata entries that did not fit Consul's limits (not written). */
  readonly dropped: readonly string[];
}

export function serviceIdOf(ref: ServiceRef, ep: Endpoint, portName: string): string {
  return `isthmus-${instanceId(ep.origin.registry, ref, ep.address, primaryPort(ep, portName))}`;
}

export function checkIdOf(serviceId: string): string {
  return `service:${serviceId}`;
}

/** The port registered as the instance's Port: the named one, else the lowest-named one. */
export function primaryPort(ep: Endpoint, portName: string): number {
  const named = ep.ports[portName];
  if (named !== undefined) return named;
  const first = Object.keys(ep.ports).sort()[0];
  return first === undefined ? 0 : ep.ports[first] ?? 0;
}

export function consulWeight(weight: number): number {
  return Math.max(1, Math.round(weight / DEFAULT_WEIGHT));
}

export function statusOf(ep: Endpoint, drainingStatus: 'warning' | 'critical'): string {
  const state = liveness(ep);
  if (state === 'ready') return 'passing';
  return state === 'draining' ? drainingStatus : 'critical';
}

/** Conditions a check status stands for when Meta says nothing more (the canonical case). */
function conditionsFromStatus(status: string, drainingStatus: 'warning' | 'critical'): Pick<Endpoint, 'ready' | 'serving' | 'terminating'> {
  if (status === 'passing') return conditionsOf('ready');
  return conditionsOf(status === drainingStatus ? 'draining' : 'down');
}

function encodeConditions(ep: Endpoint): string {
  return `${ep.ready ? 'r' : ''}${ep.serving ? 's' : ''}${ep.terminating ? 't' : ''}`;
}

function encodePorts(ports: Readonly<Record<string, number>>): string {
  return Object.keys(ports).sort().map((n) => `${n}=${ports[n]}`).join(',');
}

function decodePorts(text: string): Record<string, number> | undefined {
  const out: Record<string, number> = {};
  for (const part of text.split(',')) {
    const eq = part.lastIndexOf('=');
    const port = Number(part.slice(eq + 1));
    if (eq <= 0 || !Number.isInteger(port)) return undefined;
    out[part.slice(0, eq)] = port;
  }
  return out;
}

export function toRegistration(ref: ServiceRef, ep: Endpoint, s: ExportSettings): Registration {
  const id = serviceIdOf(ref, ep, s.portName);
  const meta: Record<string, string> = {
    [M.source]: SOURCE_VALUE,
    [M.managedBy]: s.bridgeId,
    [M.origin]: ep.origin.registry,
    [M.originId]: ep.origin.nativeId,
    [M.namespace]: ref.namespace,
    [M.ports]: encodePorts(ep.ports),
    [M.weight]: String(ep.weight),
    [M.callerWeight]: String(consulWeight(ep.weight)),
  };
  // Canonical conditions follow from the check status alone, so a health flip rewrites only the
  // check; the rare non-canonical mix (e.g. terminating and not serving) is kept in Meta.
  const canonical = conditionsFromStatus(statusOf(ep, s.drainingStatus), s.drainingStatus);
  if (canonical.ready !== ep.ready || canonical.serving !== ep.serving || canonical.terminating !== ep.terminating) meta[M.conditions] = encodeConditions(ep);
  if (ep.protocol !== undefined) meta[M.protocol] = ep.protocol;
  if (ep.zone !== undefined) meta[M.zone] = ep.zone;
  if (ep.node !== undefined) meta[M.node] = ep.node;
  // What Spring Cloud Consul callers read, unless the endpoint's own metadata already says it.
  const extra: Record<string, string> = {};
  if (ep.zone !== undefined) extra[s.zoneMetaKey] = ep.zone;
  if (ep.protocol === 'https' || ep.protocol === 'http') extra['secure'] = String(ep.protocol === 'https');
  const user = Object.keys(ep.metadata).sort().map((k) => [encodeMetaKey(k), ep.metadata[k] ?? ''] as const);
  const userKeys = new Set(user.map(([k]) => k));
  const added = Object.keys(extra).filter((k) => !userKeys.has(k) && meta[k] === undefined);
  for (const k of added) meta[k] = extra[k] ?? '';
  if (added.length > 0) meta[M.extra] = added.join(',');
  const dropped: string[] = [];
  // Consul allows 64 keys: ours come first, user keys fill the rest (one spare for M.dropped).
  const room = CONSUL_META_LIMITS.keys - Object.keys(meta).length - 1;
  let used = 0;
  for (const [k, v] of user) {
    // A user key can only collide with `weight` (Isthmus keys are escaped, extras yield): the
    // split's weight must win, so the endpoint's own `weight` is left out like an oversized key.
    if (meta[k] !== undefined || k.length > CONSUL_META_LIMITS.keyLength || v.length > CONSUL_META_LIMITS.valueLength || used >= room) {
      dropped.push(decodeMetaKey(k));
      continue;
    }
    meta[k] = v;
    used++;
  }
  if (dropped.length > 0) meta[M.dropped] = String(dropped.length);
  const tags = [TAG, ...s.extraTags];
  // `tag:<t>` metadata (what the Consul source makes of tags) goes back out as tags.
  for (const [k, v] of Object.entries(ep.metadata)) if (k.startsWith('tag:') && v === 'true' && !tags.includes(k.slice(4))) tags.push(k.slice(4));
  return {
    service: { ID: id, Service: ref.name, Tags: tags, Address: ep.address, Port: primaryPort(ep, s.portName), Meta: meta, Weights: { Passing: consulWeight(ep.weight), Warning: 1 } },
    check: { CheckID: checkIdOf(id), Name: CHECK_NAME, Status: statusOf(ep, s.drainingStatus), ServiceID: id, ServiceName: ref.name, Output: `${liveness(ep)} at ${ep.origin.registry}` },
    dropped,
  };
}

/** Owned by this bridge: on our node (the caller's query) and carrying our marker or our id form. */
export function isOwned(svc: NativeService, bridgeId: string): boolean {
  const by = svc.Meta?.[M.managedBy];
  return by === bridgeId || (by === undefined && /^isthmus-[0-9a-f]{16}$/.test(svc.ID));
}

export function refOfOwned(svc: NativeService, s: ExportSettings): ServiceRef {
  return { namespace: svc.Meta?.[M.namespace] ?? s.namespace, name: svc.Service };
}

/**
 * An owned record back as a model endpoint, with exactly the fields the sink declares. Where the
 * exact values in Meta disagree with what Consul holds (status, weight: a hand edit), what Consul
 * holds wins, so the engine sees a difference and rewrites the record.
 */
export function fromRegistration(svc: NativeService, check: NativeCheck | undefined, s: ExportSettings): Endpoint {
  const meta = svc.Meta ?? {};
  const ports = decodePorts(meta[M.ports] ?? '') ?? { [s.portName]: svc.Port ?? 0 };
  const stored = meta[M.conditions];
  let conds = conditionsFromStatus(check?.Status ?? 'critical', s.drainingStatus);
  if (stored !== undefined && check !== undefined) {
    const exact = { ready: stored.includes('r'), serving: stored.includes('s'), terminating: stored.includes('t') };
    // Meta is believed only while it agrees with the status Consul holds (no hand edit since).
    if (statusOf({ ...exact } as Endpoint, s.drainingStatus) === check.Status) conds = exact;
  }
  const storedWeight = Number(meta[M.weight]);
  const passing = svc.Weights?.Passing ?? 1;
  // Records written before Meta `weight` existed lack it; that alone is no drift to report.
  const caller = meta[M.callerWeight] === undefined ? passing : Number(meta[M.callerWeight]);
  const exact = Number.isFinite(storedWeight) && consulWeight(storedWeight) === passing;
  let weight = exact ? storedWeight : Math.min(MAX_WEIGHT, passing * DEFAULT_WEIGHT);
  if (exact && caller !== passing) weight = Number.isFinite(caller) && caller >= 0 ? Math.min(MAX_WEIGHT, caller * DEFAULT_WEIGHT) : 0;
  const skip = new Set<string>([...Object.values(M), ...(meta[M.extra] ?? '').split(',').filter((k) => k !== '')]);
  // fromEntries, not assignment: a decoded key may be `__proto__`, which must stay plain data.
  const metadata: Record<string, string> = Object.fromEntries(Object.entries(meta).filter(([k]) => !skip.has(k)).map(([k, v]) => [decodeMetaKey(k), v]));
  return {
    address: svc.Address ?? '',
    ports,
    ...(meta[M.protocol] === undefined ? {} : { protocol: meta[M.protocol] }),
    ...conds,
    weight,
    ...(meta[M.zone] === undefined ? {} : { zone: meta[M.zone] }),
    ...(meta[M.node] === undefined ? {} : { node: meta[M.node] }),
    metadata,
    origin: { registry: meta[M.origin] ?? '', nativeId: meta[M.originId] ?? svc.ID },
  };
}

/** True when what Consul holds already equals the registration (so nothing is written). */
export function sameService(want: Registration['service'], have: NativeService): boolean {
  return (
    want.ID === have.ID &&
    want.Service === have.Service &&
    want.Address === (have.Address ?? '') &&
    want.Port === (have.Port ?? 0) &&
    JSON.stringify([...want.Tags].sort()) === JSON.stringify([...(have.Tags ?? [])].sort()) &&
    sameRecord(want.Meta, have.Meta ?? {}) &&
    want.Weights.Passing === (have.Weights?.Passing ?? 1) &&
    want.Weights.Warning === (have.Weights?.Warning ?? 1)
  );
}

export function sameCheck(want: Registration['check'], have: NativeCheck | undefined): boolean {
  return have !== undefined && have.Status === want.Status && (have.Name ?? '') === want.Name && (have.Output ?? '') === want.Output && have.ServiceID === want.ServiceID;
}

function sameRecord(a: Readonly<Record<string, string>>, b: Readonly<Record<string, string>>): boolean {
  const ka = Object.keys(a);
  return ka.length === Object.keys(b).length && ka.every((k) => a[k] === b[k]);
}

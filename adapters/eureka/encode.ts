import { createHash } from 'node:crypto';
import type { Endpoint, ServiceRef } from '../../bridge/model/index.ts';
import { DEFAULT_WEIGHT, conditionsOf, endpointKey, liveness } from '../../bridge/model/index.ts';
import { effectiveStatus, overriddenOf, portEnabled, portNumber, userMetadata, type EurekaInstance, type EurekaStatus } from './native.ts';

/** Model → Eureka (the sink direction), and back for `read`. Everything here is pure. */

export interface ExportSettings {
  readonly bridgeId: string;
  readonly portName: string;
  readonly securePortName: string;
  readonly zoneMetaKey: string;
  /** Canonical namespace assumed for an owned record whose namespace marker is missing. */
  readonly namespace: string;
  readonly renewIntervalSeconds: number;
  readonly leaseDurationSeconds: number;
}

/** Instance metadata keys Isthmus owns on every exported instance (DESIGN §6, as for Nacos). */
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
  /** Keys we added for Spring callers (`weight`, `zone`) that the endpoint's own metadata lacked. */
  extra: 'isthmus.extra',
} as const;
const PREFIX = 'isthmus.';
/** A user key that itself starts with `isthmus.` (or `@`) is stored under this prefix, so it never poses as a marker. */
const ESCAPED = 'isthmus.user.';
/** Instance ids we write end with this and a hash: recognisable even if metadata were lost. */
const ID_MARK = /:isthmus-[0-9a-f]{12}$/;

export const DATA_CENTER = { '@class': 'com.netflix.appinfo.InstanceInfo$DefaultDataCenterInfo', name: 'MyOwn' } as const;

export function isIsthmusInstance(i: EurekaInstance): boolean {
  return i.metadata?.[M.managedBy] !== undefined || ID_MARK.test(i.instanceId ?? '');
}

export function isOwned(i: EurekaInstance, bridgeId: string): boolean {
  return i.metadata?.[M.managedBy] === bridgeId;
}

/** The port registered as `port`: the named one, else the lowest-named non-secure one. */
export function primaryPort(ep: Endpoint, s: ExportSettings): number | undefined {
  const named = ep.ports[s.portName];
  if (named !== undefined) return named;
  const first = Object.keys(ep.ports).filter((n) => n !== s.securePortName).sort()[0];
  return first === undefined ? undefined : ep.ports[first];
}

/**
 * Spring-style `host:app:port` (IdUtils) plus a hash of everything that makes the record ours
 * (bridge, origin, namespace): two bridges exporting one pod never share a lease, and a restart
 * finds the same id again.
 */
export function instanceIdOf(ref: ServiceRef, ep: Endpoint, s: ExportSettings): string {
  const port = primaryPort(ep, s) ?? ep.ports[s.securePortName] ?? 0;
  const h = createHash('sha256').update(`${s.bridgeId}\u0000${ep.origin.registry}\u0000${ref.namespace}\u0000${ref.name}\u0000${ep.address}\u0000${port}`);
  return `${ep.address}:${ref.name.toLowerCase()}:${port}:isthmus-${h.digest('hex').slice(0, 12)}`;
}

/** Spring Cloud LoadBalancer's `weight` (integer ≥ 1, 1 = neutral) for a model weight. */
export function callerWeight(weight: number): number {
  return Math.max(1, Math.round(weight / DEFAULT_WEIGHT));
}

/**
 * The override that carries an endpoint's health. Eureka's registration rules keep an existing
 * UP or OUT_OF_SERVICE lease's status over a re-registered one, so only the override endpoint
 * moves an instance reliably in every direction: DOWN and OUT_OF_SERVICE are overrides, ready
 * is "no override" (status UP).
 */
export function overrideFor(ep: Pick<Endpoint, 'ready' | 'serving' | 'terminating'>): EurekaStatus {
  const state = liveness(ep);
  if (state === 'ready') return 'UNKNOWN';
  return state === 'draining' ? 'OUT_OF_SERVICE' : 'DOWN';
}

function statusFor(override: EurekaStatus): EurekaStatus {
  return override === 'UNKNOWN' ? 'UP' : override;
}

function encodeConditions(ep: Pick<Endpoint, 'ready' | 'serving' | 'terminating'>): string {
  return `${ep.ready ? 'r' : ''}${ep.serving ? 's' : ''}${ep.terminating ? 't' : ''}`;
}

/** `name=port,…` by name; `%`, `,` and `=` in a name are %-escaped so no name splits the list. */
export function encodePorts(ports: Readonly<Record<string, number>>): string {
  return Object.keys(ports).sort().map((n) => `${n.replace(/[%,=]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)}=${ports[n]}`).join(',');
}

function decodePorts(text: string | undefined): Record<string, number> | undefined {
  if (text === undefined || text === '') return undefined;
  const out: [string, number][] = [];
  for (const part of text.split(',')) {
    const eq = part.lastIndexOf('=');
    const port = Number(part.slice(eq + 1));
    if (eq < 0 || !Number.isInteger(port)) return undefined;
    out.push([part.slice(0, eq).replace(/%(25|2C|3D)/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16))), port]);
  }
  return Object.fromEntries(out);
}

/** The instance a Spring Cloud client would register for this endpoint, minus timestamps. */
export function toInstance(ref: ServiceRef, ep: Endpoint, s: ExportSettings): EurekaInstance {
  // `@…` keys are escaped too: Eureka's JSON uses them for type hints, and readers drop them.
  const user: [string, string][] = Object.entries(ep.metadata).map(([k, v]) => [k.startsWith(PREFIX) || k.startsWith('@') ? ESCAPED + k : k, v]);
  // fromEntries, not assignment: a user key `__proto__` must stay a key.
  const metadata: Record<string, string> = Object.fromEntries(user);
  Object.assign(metadata, {
    [M.managedBy]: s.bridgeId,
    [M.origin]: ep.origin.registry,
    [M.originId]: ep.origin.nativeId,
    [M.namespace]: ref.namespace,
    [M.ports]: encodePorts(ep.ports),
    [M.weight]: String(ep.weight),
  });
  // Canonical conditions follow from the status; only a rare mix needs spelling out.
  const canonical = conditionsOf(liveness(ep));
  if (canonical.ready !== ep.ready || canonical.serving !== ep.serving || canonical.terminating !== ep.terminating) metadata[M.conditions] = encodeConditions(ep);
  if (ep.protocol !== undefined) metadata[M.protocol] = ep.protocol;
  if (ep.zone !== undefined) metadata[M.zone] = ep.zone;
  if (ep.node !== undefined) metadata[M.node] = ep.node;
  // What Spring callers read, unless the endpoint's own metadata already says it.
  const extra: [string, string][] = [['weight', String(callerWeight(ep.weight))]];
  if (ep.zone !== undefined) extra.push([s.zoneMetaKey, ep.zone]);
  const added = extra.filter(([k]) => metadata[k] === undefined);
  for (const [k, v] of added) metadata[k] = v;
  if (added.length > 0) metadata[M.extra] = added.map(([k]) => k).sort().join(',');
  const port = primaryPort(ep, s);
  const secure = ep.ports[s.securePortName];
  const override = overrideFor(ep);
  // Spring sets the vipAddress to spring.application.name as written: it keeps the exact name,
  // which the upper-cased app name cannot, so a scan finds the ref again.
  const vip = ref.name;
  return {
    instanceId: instanceIdOf(ref, ep, s),
    app: ref.name.toUpperCase(),
    hostName: ep.address,
    ipAddr: ep.address,
    status: statusFor(override),
    overriddenStatus: override,
    port: { $: port ?? secure ?? 0, '@enabled': String(port !== undefined) },
    securePort: { $: secure ?? 443, '@enabled': String(secure !== undefined) },
    vipAddress: vip,
    secureVipAddress: vip,
    dataCenterInfo: DATA_CENTER,
    leaseInfo: { renewalIntervalInSecs: s.renewIntervalSeconds, durationInSecs: s.leaseDurationSeconds },
    metadata,
  };
}

/** An owned instance back as the endpoint we wrote; anything missing falls back to what Eureka shows. */
export function fromInstance(i: EurekaInstance, s: ExportSettings): Endpoint {
  const meta = userMetadata(i);
  const added = new Set((meta[M.extra] ?? '').split(',').filter((k) => k !== ''));
  const user: [string, string][] = [];
  for (const [k, v] of Object.entries(meta)) {
    if (k.startsWith(ESCAPED)) user.push([k.slice(ESCAPED.length), v]);
    else if (!k.startsWith(PREFIX) && !added.has(k)) user.push([k, v]);
  }
  const cond = meta[M.conditions];
  const status = effectiveStatus(i);
  const conditions = cond === undefined
    ? conditionsOf(status === 'UP' ? 'ready' : status === 'OUT_OF_SERVICE' ? 'draining' : 'down')
    : { ready: cond.includes('r'), serving: cond.includes('s'), terminating: cond.includes('t') };
  const weight = Number(meta[M.weight]);
  const protocol = meta[M.protocol];
  const zone = meta[M.zone];
  const node = meta[M.node];
  const fallbackPorts: Record<string, number> = {};
  const port = portNumber(i.port);
  if (port !== undefined && portEnabled(i.port)) fallbackPorts[s.portName] = port;
  const secure = portNumber(i.securePort);
  if (secure !== undefined && portEnabled(i.securePort)) fallbackPorts[s.securePortName] = secure;
  return {
    address: i.ipAddr ?? '',
    ports: decodePorts(meta[M.ports]) ?? fallbackPorts,
    ...(protocol === undefined ? {} : { protocol }),
    ...conditions,
    weight: meta[M.weight] !== undefined && Number.isFinite(weight) ? weight : DEFAULT_WEIGHT,
    ...(zone === undefined ? {} : { zone }),
    ...(node === undefined ? {} : { node }),
    metadata: Object.fromEntries(user),
    origin: { registry: meta[M.origin] ?? 'unknown', nativeId: meta[M.originId] ?? i.instanceId ?? '' },
  };
}

/**
 * What a registration carries besides status and timestamps: two instances with the same body
 * need no re-registration. Metadata in code-unit key order (not localeCompare, which calls
 * NFC/NFD twins equal and would leave their order to chance).
 */
export function bodyKey(i: EurekaInstance): string {
  const meta = Object.entries(userMetadata(i)).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return JSON.stringify([
    i.instanceId, i.app?.toUpperCase(), i.ipAddr, i.hostName, portNumber(i.port), portEnabled(i.port), portNumber(i.securePort), portEnabled(i.securePort),
    i.vipAddress, i.secureVipAddress, i.leaseInfo?.renewalIntervalInSecs, i.leaseInfo?.durationInSecs, meta,
  ]);
}

/** The override an instance holds, as the plan compares it (UNKNOWN: none). */
export function heldOverride(i: EurekaInstance): EurekaStatus {
  return overriddenOf(i);
}

export function sortEndpoints(eps: readonly Endpoint[]): Endpoint[] {
  return [...eps].sort((a, b) => endpointKey(a).localeCompare(endpointKey(b)));
}

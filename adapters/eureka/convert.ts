import type { Endpoint, Liveness, RegistryId, ServicePort, ServiceRef, ServiceSnapshot } from '../../bridge/model/index.ts';
import { DEFAULT_WEIGHT, MAX_WEIGHT, conditionsOf, endpointKey, endpointProblem, globToRegExp, refKey, refProblem } from '../../bridge/model/index.ts';
import type { Refusal } from '../shared/source-cache.ts';
import { isIsthmusInstance } from './encode.ts';
import { effectiveStatus, idOf, portEnabled, portNumber, userMetadata, type EurekaInstance, type EurekaStatus } from './native.ts';

/** Eureka → model (the source direction). Everything here is pure. */

export interface ImportSettings {
  readonly registry: RegistryId;
  readonly namespace: string;
  readonly services: readonly string[];
  readonly nameFrom: 'app' | 'vipAddress';
  readonly portName: string;
  readonly securePortName: string;
  readonly zoneMetaKey: string;
}

/** Spring Boot's separate actuator port (Spring Cloud Netflix puts it in metadata). */
export const MANAGEMENT_PORT = 'management';

/**
 * Eureka status → model (DESIGN §5). Callers filter on UP (Spring's DiscoveryClient keeps only
 * UP instances), so everything else is not ready; OUT_OF_SERVICE is the deliberate "take me out
 * of traffic" of a deploy or a shutdown while the process still serves: draining. STARTING,
 * DOWN and UNKNOWN serve nobody.
 */
export function livenessOfStatus(status: EurekaStatus): Liveness {
  if (status === 'UP') return 'ready';
  return status === 'OUT_OF_SERVICE' ? 'draining' : 'down';
}

/** Metadata `weight` is what Spring Cloud LoadBalancer's weighted supplier reads (integer, 1 by default); ours has 100. */
export function weightOfMetadata(meta: Readonly<Record<string, string>>): number {
  const raw = meta['weight'];
  const w = raw === undefined || raw.trim() === '' ? Number.NaN : Number(raw);
  if (!Number.isFinite(w) || w <= 0) return DEFAULT_WEIGHT;
  return Math.min(MAX_WEIGHT, Math.max(1, Math.round(w * DEFAULT_WEIGHT)));
}

/** The service name of an instance, before the glob filter. */
export function serviceNameOf(app: string, i: EurekaInstance, s: ImportSettings): string {
  if (s.nameFrom === 'vipAddress') {
    const vip = (i.vipAddress ?? '').split(',')[0]?.trim();
    if (vip !== undefined && vip !== '') return vip;
  }
  return app.toLowerCase();
}

export function wantsName(name: string, s: ImportSettings): boolean {
  return s.services.some((g) => globToRegExp(g).test(name));
}

export function nativeIdOf(app: string, i: EurekaInstance): string {
  return `${app.toUpperCase()}/${idOf(i)}`;
}

/** One instance as an endpoint, or why it cannot be one. */
export function toEndpoint(app: string, i: EurekaInstance, s: ImportSettings): Endpoint | { readonly problem: string } {
  const meta = userMetadata(i);
  const ports: Record<string, number> = {};
  const port = portNumber(i.port);
  const secure = portNumber(i.securePort);
  // A port counts when enabled; Eureka's own default (`port` enabled) applies when the flag is missing.
  if (port !== undefined && (portEnabled(i.port) || i.port?.['@enabled'] === undefined)) ports[s.portName] = port;
  if (secure !== undefined && portEnabled(i.securePort)) ports[s.securePortName] = secure;
  if (Object.keys(ports).length === 0) return { problem: 'no enabled port (port and securePort are both disabled or invalid)' };
  const mgmt = Number(meta['management.port']);
  if (Number.isInteger(mgmt) && mgmt > 0 && mgmt < 65536 && !Object.values(ports).includes(mgmt)) ports[MANAGEMENT_PORT] = mgmt;
  const address = i.ipAddr ?? i.hostName ?? '';
  const zone = meta[s.zoneMetaKey];
  const onlySecure = ports[s.portName] === undefined;
  const node = i.hostName !== undefined && i.hostName !== '' && i.hostName !== address ? i.hostName : undefined;
  const ep: Endpoint = {
    address,
    ports,
    ...(onlySecure ? { protocol: 'https' } : {}),
    ...conditionsOf(livenessOfStatus(effectiveStatus(i))),
    weight: weightOfMetadata(meta),
    ...(zone === undefined || zone === '' ? {} : { zone }),
    ...(node === undefined ? {} : { node }),
    metadata: meta,
    origin: { registry: s.registry, nativeId: nativeIdOf(app, i) },
  };
  const problem = endpointProblem(ep);
  return problem === undefined ? ep : { problem };
}

export interface ImportResult {
  readonly snapshots: readonly ServiceSnapshot[];
  readonly quarantined: readonly Refusal[];
}

/**
 * The snapshots of one application (one per service name found in it: one, unless names come
 * from vipAddresses that differ). Instances any Isthmus wrote and unselected names are left out,
 * so an application holding only our exports yields nothing.
 */
export function toSnapshots(app: string, instances: readonly EurekaInstance[], s: ImportSettings): ImportResult {
  const groups = new Map<string, { ref: ServiceRef; endpoints: Map<string, Endpoint>; vip: string | undefined }>();
  const quarantined: Refusal[] = [];
  for (const i of instances) {
    if (isIsthmusInstance(i)) continue;
    const name = serviceNameOf(app, i, s);
    if (!wantsName(name, s)) continue;
    const ref = { namespace: s.namespace, name };
    const badRef = refProblem(ref);
    if (badRef !== undefined) {
      quarantined.push({ nativeId: nativeIdOf(app, i), ref, reason: badRef });
      continue;
    }
    const ep = toEndpoint(app, i, s);
    if ('problem' in ep) {
      quarantined.push({ nativeId: nativeIdOf(app, i), ref, reason: ep.problem });
      continue;
    }
    const key = refKey(ref);
    let g = groups.get(key);
    if (g === undefined) {
      g = { ref, endpoints: new Map(), vip: i.vipAddress };
      groups.set(key, g);
    }
    // Two registrations of one ip:port (a restarted app under a new instance id, the old lease
    // not yet expired) are one endpoint to a caller: keep the healthier, then the lowest id.
    const id = endpointKey(ep);
    const prior = g.endpoints.get(id);
    if (prior === undefined || better(ep, prior)) g.endpoints.set(id, ep);
  }
  const snapshots: ServiceSnapshot[] = [];
  for (const g of [...groups.values()].sort((a, b) => a.ref.name.localeCompare(b.ref.name))) {
    const endpoints = [...g.endpoints.values()].sort((a, b) => endpointKey(a).localeCompare(endpointKey(b)));
    const metadata: Record<string, string> = { 'eureka.app': app.toUpperCase() };
    if (g.vip !== undefined && g.vip !== '') metadata['eureka.vipAddress'] = g.vip;
    snapshots.push({ ref: g.ref, ports: servicePorts(endpoints, s), endpoints, metadata, origin: s.registry });
  }
  return { snapshots, quarantined };
}

function better(a: Endpoint, b: Endpoint): boolean {
  if (a.ready !== b.ready) return a.ready;
  return a.origin.nativeId < b.origin.nativeId;
}

/** Per port name, the number most endpoints use (instances of one app normally agree). */
function servicePorts(endpoints: readonly Endpoint[], s: ImportSettings): ServicePort[] {
  const names = [s.portName, s.securePortName, MANAGEMENT_PORT];
  const out: ServicePort[] = [];
  for (const name of names) {
    const counts = new Map<number, number>();
    for (const e of endpoints) {
      const p = e.ports[name];
      if (p !== undefined) counts.set(p, (counts.get(p) ?? 0) + 1);
    }
    const common = [...counts.entries()].sort((a, b) => b[1] - a[1] || a[0] - b[0])[0]?.[0];
    if (common !== undefined) out.push({ name, port: common, ...(name === s.securePortName ? { protocol: 'https' } : {}) });
  }
  return out;
}

/**
 * Self-preservation as Spring Cloud's dashboard shows it: "Lease expiration enabled" false means
 * the server stopped expiring leases (renewals fell below its threshold, or a server that has
 * barely any registrations), so an instance that died stays listed and one that vanished may
 * come back. undefined: the page does not say (no dashboard, another server).
 */
export function selfPreservationOf(html: string): { readonly active: boolean; readonly detail: string } | undefined {
  const m = /Lease expiration enabled<\/td>\s*<td>\s*(true|false)\s*</i.exec(html);
  if (m === null) return undefined;
  const threshold = /Renews threshold<\/td>\s*<td>\s*(\d+)/i.exec(html)?.[1];
  const last = /Renews \(last min\)<\/td>\s*<td>\s*(\d+)/i.exec(html)?.[1];
  const detail = threshold === undefined || last === undefined ? '' : ` (renews last minute ${last}, threshold ${threshold})`;
  return { active: m[1]?.toLowerCase() === 'false', detail };
}

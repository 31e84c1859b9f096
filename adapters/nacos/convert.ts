import type { Endpoint, Liveness, RegistryId, ServicePort, ServiceRef, ServiceSnapshot } from '../../bridge/model/index.ts';
import { DEFAULT_WEIGHT, MAX_WEIGHT, conditionsOf, endpointKey, endpointProblem, globToRegExp, refProblem } from '../../bridge/model/index.ts';
import { isIsthmusInstance } from './encode.ts';
import { dubboMetadata, parseDubboName, refOfName } from './naming.ts';
import { DEFAULT_CLUSTER, groupedName, instanceIdOf, type NacosInstance, type NacosName, type ServiceInfo } from './native.ts';

/** Nacos → model (the source direction). Everything here is pure. */

export interface ImportSettings {
  readonly registry: RegistryId;
  readonly namespace: string;
  readonly namespaceMetaKey?: string;
  readonly defaultGroup: string;
  readonly groups: readonly string[];
  readonly services: readonly string[];
  readonly clusters: readonly string[];
  readonly portName: string;
  readonly zoneMetaKey: string;
  readonly metadata: Readonly<Record<string, string>>;
}

/** Model metadata key carrying a non-default Nacos cluster name. */
export const CLUSTER_KEY = 'nacos.cluster';
/** Spring Cloud Alibaba's separate actuator port, imported as a second named port. */
export const MANAGEMENT_PORT = 'management';

/**
 * Whether a listed service is watched at all. Dubbo consumer, router and configurator entries
 * are not services anyone calls, so they are never imported.
 */
export function wantsService(n: NacosName, s: ImportSettings): boolean {
  if (!s.groups.includes(n.group)) return false;
  const dubbo = parseDubboName(n.service);
  if (dubbo !== undefined && dubbo.category !== 'providers') return false;
  return s.services.some((g) => globToRegExp(g).test(n.service) || globToRegExp(g).test(groupedName(n)));
}

/**
 * Why a listed service cannot be carried at all (its name holds `/`, a control character, is
 * empty or too long — Nacos accepts more than the model does), or undefined. The source refuses
 * such a service before subscribing and lists it as quarantined.
 */
export function serviceProblem(n: NacosName, s: ImportSettings): string | undefined {
  return refProblem(refOfName(n, s.defaultGroup, s.namespace));
}

/** Nacos health (DESIGN §5): unhealthy is down; healthy but disabled is draining. */
export function livenessOfInstance(i: NacosInstance): Liveness {
  if (i.healthy === false) return 'down';
  return i.enabled === false ? 'draining' : 'ready';
}

/** Nacos weights are floats with 1.0 as default; ours are 0–10000 with 100 as default. */
export function modelWeight(w: number | undefined): number {
  if (w === undefined || !Number.isFinite(w)) return DEFAULT_WEIGHT;
  return Math.max(0, Math.min(MAX_WEIGHT, Math.round(w * DEFAULT_WEIGHT)));
}

/** Dubbo writes `protocol`; Spring Cloud Alibaba writes `secure=true|false`. */
function protocolOf(meta: Readonly<Record<string, string>>): string | undefined {
  const explicit = meta['protocol'];
  if (explicit !== undefined && explicit !== '') return explicit;
  if (meta['secure'] === 'true') return 'https';
  if (meta['secure'] === 'false') return 'http';
  return undefined;
}

export function nativeIdOf(n: NacosName, i: NacosInstance): string {
  return i.instanceId ?? instanceIdOf(n, i);
}

export function toEndpoint(n: NacosName, i: NacosInstance, s: ImportSettings): Endpoint {
  const meta = i.metadata ?? {};
  const metadata: Record<string, string> = { ...meta };
  const cluster = i.clusterName ?? DEFAULT_CLUSTER;
  if (cluster !== DEFAULT_CLUSTER) metadata[CLUSTER_KEY] = cluster;
  const ports: Record<string, number> = { [s.portName]: i.port };
  const mgmt = Number(meta['management.port']);
  if (Number.isInteger(mgmt) && mgmt > 0 && mgmt !== i.port) ports[MANAGEMENT_PORT] = mgmt;
  const protocol = protocolOf(meta);
  const zone = meta[s.zoneMetaKey];
  return {
    address: i.ip,
    ports,
    ...(protocol === undefined ? {} : { protocol }),
    ...conditionsOf(livenessOfInstance(i)),
    weight: modelWeight(i.weight),
    ...(zone === undefined || zone === '' ? {} : { zone }),
    metadata,
    origin: { registry: s.registry, nativeId: nativeIdOf(n, i) },
  };
}

export interface ImportResult {
  readonly snapshots: readonly ServiceSnapshot[];
  readonly quarantined: readonly { readonly nativeId: string; readonly ref: ServiceRef; readonly reason: string }[];
}

/**
 * The snapshots of one Nacos service (one per canonical namespace found in it). Instances any
 * Isthmus wrote, of unselected clusters or missing the metadata filter are left out; a service
 * with no instance left yields no snapshot, so our own exports stay invisible.
 */
export function toSnapshots(n: NacosName, info: ServiceInfo, s: ImportSettings, revision?: string): ImportResult {
  const groups = new Map<string, { ref: ServiceRef; endpoints: Map<string, Endpoint>; ports: Map<number, number>; mgmt: boolean }>();
  const quarantined: { nativeId: string; ref: ServiceRef; reason: string }[] = [];
  for (const i of info.hosts ?? []) {
    const meta = i.metadata ?? {};
    if (isIsthmusInstance(i)) continue;
    if (s.clusters.length > 0 && !s.clusters.includes(i.clusterName ?? DEFAULT_CLUSTER)) continue;
    if (!Object.entries(s.metadata).every(([k, v]) => meta[k] === v)) continue;
    const fromMeta = s.namespaceMetaKey === undefined ? undefined : meta[s.namespaceMetaKey];
    const ref = refOfName(n, s.defaultGroup, fromMeta !== undefined && fromMeta !== '' ? fromMeta : s.namespace);
    // The name, or a namespace taken from instance metadata, may be one the model cannot carry.
    const badRef = refProblem(ref);
    if (badRef !== undefined) {
      quarantined.push({ nativeId: nativeIdOf(n, i), ref, reason: badRef });
      continue;
    }
    const ep = toEndpoint(n, i, s);
    const problem = endpointProblem(ep);
    if (problem !== undefined) {
      quarantined.push({ nativeId: ep.origin.nativeId, ref, reason: problem });
      continue;
    }
    const key = `${ref.namespace}/${ref.name}`;
    let g = groups.get(key);
    if (g === undefined) {
      g = { ref, endpoints: new Map(), ports: new Map(), mgmt: false };
      groups.set(key, g);
    }
    // One ip:port in two clusters is one endpoint to a caller; keep the lowest id for stability.
    const id = endpointKey(ep);
    const prior = g.endpoints.get(id);
    if (prior === undefined || ep.origin.nativeId < prior.origin.nativeId) g.endpoints.set(id, ep);
    g.ports.set(i.port, (g.ports.get(i.port) ?? 0) + 1);
    if (ep.ports[MANAGEMENT_PORT] !== undefined) g.mgmt = true;
  }
  const dubbo = parseDubboName(n.service);
  const serviceMeta: Record<string, string> = { 'nacos.group': n.group, 'nacos.service': n.service, ...(dubbo === undefined ? {} : dubboMetadata(dubbo)) };
  const snapshots: ServiceSnapshot[] = [];
  for (const g of [...groups.values()].sort((a, b) => a.ref.namespace.localeCompare(b.ref.namespace))) {
    const endpoints = [...g.endpoints.values()].sort((a, b) => endpointKey(a).localeCompare(endpointKey(b)));
    const common = [...g.ports.entries()].sort((a, b) => b[1] - a[1] || a[0] - b[0])[0]?.[0] ?? 0;
    const protocol = endpoints.find((e) => e.protocol !== undefined)?.protocol;
    const ports: ServicePort[] = [{ name: s.portName, port: common, ...(protocol === undefined ? {} : { protocol }) }];
    const mgmt = endpoints.find((e) => e.ports[MANAGEMENT_PORT] !== undefined)?.ports[MANAGEMENT_PORT];
    if (g.mgmt && mgmt !== undefined) ports.push({ name: MANAGEMENT_PORT, port: mgmt });
    snapshots.push({ ref: g.ref, ports, endpoints, metadata: serviceMeta, origin: s.registry, ...(revision === undefined ? {} : { revision }) });
  }
  return { snapshots, quarantined };
}

// Pure rendering of the Istio mode's objects from a desired snapshot: one WorkloadEntry per
// ready VM instance, a ServiceEntry for VM-only services, a DestinationRule with one subset per
// side, and a VirtualService carrying the migration split. No I/O: istio-plan.ts compares the
// result with what was read.
import { createHash } from 'node:crypto';
import { isIP } from 'node:net';
import type { Endpoint, RegistryId, ServicePort } from '../../bridge/model/index.ts';
import { DEFAULT_WEIGHT, MAX_WEIGHT } from '../../bridge/model/index.ts';
import type { Split } from '../../bridge/sync/split.ts';
import { K8S } from './markers.ts';
import type { IstioOptions } from './options.ts';
import type { SliceOwner } from './slices.ts';
import type { IstioObject, KDestinationRule, KServiceEntry, KVirtualService, KWorkloadEntry, RouteDestination, ServiceEntryPort } from './istio-types.ts';
import type { KServicePort, ObjectMeta } from './types.ts';

/** Keys the Istio mode adds to the markers every sink object carries. */
export const ISTIO = {
  /** Which imported Service an object belongs to (label: lists our WorkloadEntries per service). */
  service: 'isthmus.dev/service',
  /** Which side of the migration a workload is on; DestinationRule subsets select by it. */
  side: 'isthmus.dev/side',
  /** The origin registry's id of the instance behind a WorkloadEntry. */
  originId: 'isthmus.dev/origin-id',
} as const;

export const VM_SUBSET = 'vm';
export const K8S_SUBSET = 'k8s';
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

export type IstioRenderOptions = Pick<IstioOptions, 'clusterDomain' | 'exportTo' | 'region' | 'podSubsetLabels'>;

/** The mesh hostname callers use: the Kubernetes Service's name, whether or not it exists. */
export function meshHost(owner: SliceOwner, domain: string): string {
  return `${owner.service}.${owner.namespace}.svc.${domain}`;
}

/** Name shared by our ServiceEntry, DestinationRule and VirtualService (a suffix: users often name theirs after the service). */
export function routingName(owner: SliceOwner): string {
  return `${owner.service}-isthmus`;
}

/** A WorkloadEntry's name: deterministic per bridge and instance, so a restart finds it again. */
export function workloadEntryName(owner: SliceOwner, ep: Pick<Endpoint, 'address' | 'ports'>): string {
  const key = `${owner.bridgeId}|${ep.address}|${Object.entries(ep.ports).sort(([a], [b]) => a.localeCompare(b)).map(([n, p]) => `${n}=${p}`).join(',')}`;
  return `${owner.service}-${createHash('sha256').update(key).digest('hex').slice(0, 10)}`;
}

/**
 * Labels that make the mesh pick our WorkloadEntries: the selector of the app's Kubernetes
 * Service when there is one (Istio lets a Service with a selector select WorkloadEntries), else
 * `app` (selected by our ServiceEntry); plus the side, for the DestinationRule's `vm` subset.
 */
export function workloadLabels(owner: SliceOwner, selector: Readonly<Record<string, string>> | undefined): Record<string, string> {
  const base = selector !== undefined && Object.keys(selector).length > 0 ? selector : { app: owner.service };
  return { ...base, [ISTIO.side]: VM_SUBSET };
}

/** Ownership markers of every Istio object (as on our Services and slices) plus the service label. */
export function istioMeta(owner: SliceOwner, name: string, origin: RegistryId, extra: Record<string, string> = {}): ObjectMeta {
  return {
    name,
    namespace: owner.namespace,
    labels: { [K8S.managedBy]: owner.bridgeId, [K8S.origin]: origin, [ISTIO.service]: owner.service },
    annotations: { [K8S.managedBy]: owner.bridgeId, [K8S.originalName]: owner.originalName, [K8S.originalNamespace]: owner.originalNamespace, ...extra },
  };
}

/** `region/zone` from the endpoint's zone; a zone already holding `/` is taken as a locality. */
export function localityOf(zone: string | undefined, region: string | undefined): string | undefined {
  if (zone === undefined || zone === '') return undefined;
  if (zone.includes('/') || region === undefined) return zone;
  return `${region}/${zone}`;
}

/**
 * The WorkloadEntry ports: for a Service-selected entry, keyed by the Service's port names (Istio
 * looks the target port up by that name; a single-port instance serves every single-port
 * Service); otherwise the instance's own named ports.
 */
function entryPorts(ep: Endpoint, servicePorts: readonly KServicePort[] | undefined): Record<string, number> {
  const own = Object.entries(ep.ports).filter(([n, p]) => n.length <= 63 && DNS_LABEL.test(n) && Number.isInteger(p) && p >= 1 && p <= 65535);
  if (servicePorts === undefined) return Object.fromEntries(own);
  const out: Record<string, number> = {};
  const only = own.length === 1 ? own[0]?.[1] : undefined;
  for (const sp of servicePorts) {
    if (sp.name === undefined || sp.name === '') continue;
    const port = ep.ports[sp.name] ?? (servicePorts.length === 1 ? only : undefined);
    if (port !== undefined && port >= 1 && port <= 65535) out[sp.name] = port;
  }
  return out;
}

/**
 * An instance's weight on Istio's scale, where every pod counts 1: the model's neutral 100 is 1,
 * so a VM and a pod of one Service share its traffic evenly when no split applies. Written as is,
 * a VM would get a hundred pods' worth. Below-neutral weights cannot go under 1.
 */
export function meshWeight(weight: number): number {
  return Math.max(1, Math.round(weight / DEFAULT_WEIGHT));
}

/** The model weight of a WorkloadEntry's (unset counts 1, as Istio counts it). */
export function modelWeight(meshWeightValue: number | undefined): number {
  return Math.min(MAX_WEIGHT, Math.max(1, meshWeightValue ?? 1) * DEFAULT_WEIGHT);
}

/** Why an instance is not written as a WorkloadEntry (withdrawn: the mesh has no "not ready" entry), or undefined. */
export function withdrawn(ep: Endpoint): string | undefined {
  if (!ep.ready) return 'not ready';
  if (ep.weight <= 0) return 'weight 0';
  return undefined;
}

/**
 * One ready VM instance as a WorkloadEntry. No `serviceAccount` and no
 * `security.istio.io/tlsMode` label, on purpose: without either Istio marks the endpoint's TLS
 * mode `disabled`, so sidecars talk plaintext to VMs that have none.
 */
export function renderWorkloadEntry(owner: SliceOwner, ep: Endpoint, labels: Readonly<Record<string, string>>, opts: IstioRenderOptions, servicePorts?: readonly KServicePort[]): KWorkloadEntry | { refused: string } {
  if (isIP(ep.address) === 0) return { refused: `${ep.address} is not an IP address` };
  const locality = localityOf(ep.zone, opts.region);
  return {
    apiVersion: 'networking.istio.io/v1',
    kind: 'WorkloadEntry',
    metadata: istioMeta(owner, workloadEntryName(owner, ep), ep.origin.registry, { [ISTIO.originId]: ep.origin.nativeId }),
    spec: {
      address: ep.address,
      ports: entryPorts(ep, servicePorts),
      labels: { ...labels },
      weight: meshWeight(ep.weight),
      ...(locality === undefined ? {} : { locality }),
    },
  };
}

/** Istio's port protocol for a model port: HTTP-family names and protocols as such, TCP otherwise. */
export function meshProtocol(name: string, protocol: string | undefined): string {
  const p = (protocol ?? name.split('-')[0] ?? '').toLowerCase();
  if (p === 'http' || p === 'grpc' || p === 'http2' || p === 'https') return p === 'http2' ? 'HTTP2' : p.toUpperCase();
  if (p === 'grpc-web' || p === 'tri' || p === 'h2c') return 'HTTP2';
  return 'TCP';
}

export function serviceEntryPorts(ports: readonly ServicePort[], endpointProtocol: string | undefined): ServiceEntryPort[] {
  return ports.map((p) => ({ number: p.port, name: p.name, protocol: meshProtocol(p.name, p.protocol ?? endpointProtocol) }));
}

/**
 * The ServiceEntry of a VM-only service: the mesh host, STATIC endpoints taken from our
 * WorkloadEntries through `workloadSelector`, MESH_INTERNAL (mTLS settings apply, and the
 * entries carry no TLS mode), scoped by `exportTo`, with `address` when TCP ports need a VIP.
 */
export function renderServiceEntry(owner: SliceOwner, origin: RegistryId, ports: readonly ServiceEntryPort[], selector: Readonly<Record<string, string>>, opts: IstioRenderOptions, address: string | undefined): KServiceEntry {
  return {
    apiVersion: 'networking.istio.io/v1',
    kind: 'ServiceEntry',
    metadata: istioMeta(owner, routingName(owner), origin),
    spec: {
      hosts: [meshHost(owner, opts.clusterDomain)],
      ...(address === undefined ? {} : { addresses: [address] }),
      ports: ports.map((p) => ({ ...p })),
      location: 'MESH_INTERNAL',
      resolution: 'STATIC',
      workloadSelector: { labels: { ...selector } },
      exportTo: [...opts.exportTo],
    },
  };
}

/**
 * Subsets by side. The `vm` subset disables TLS: a mesh-wide ISTIO_MUTUAL rule would otherwise
 * make sidecars start mTLS towards VMs that have no sidecar to answer it.
 */
export function renderDestinationRule(owner: SliceOwner, origin: RegistryId, opts: IstioRenderOptions): KDestinationRule {
  return {
    apiVersion: 'networking.istio.io/v1',
    kind: 'DestinationRule',
    metadata: istioMeta(owner, routingName(owner), origin),
    spec: {
      host: meshHost(owner, opts.clusterDomain),
      subsets: [
        { name: VM_SUBSET, labels: { [ISTIO.side]: VM_SUBSET }, trafficPolicy: { tls: { mode: 'DISABLE' } } },
        { name: K8S_SUBSET, labels: { ...opts.podSubsetLabels } },
      ],
      exportTo: [...opts.exportTo],
    },
  };
}

/**
 * The split as percentages per side, or undefined when there is nothing to route by. The pod
 * side is the sink's own registry; every other registry in the split is the VM side. As in
 * `applySplit`, a VM side with no ready instance drops out and the pods take everything.
 * Integers summing to 100, so the VirtualService reads as the operator wrote the split.
 */
export function sideWeights(split: Split | undefined, sinkId: RegistryId, endpoints: readonly Endpoint[]): { vm: number; k8s: number } | undefined {
  if (split === undefined) return undefined;
  const serving = new Set(endpoints.filter((ep) => withdrawn(ep) === undefined).map((ep) => ep.origin.registry));
  let vm = 0;
  for (const [registry, share] of Object.entries(split)) if (registry !== sinkId && serving.has(registry)) vm += share;
  const k8s = split[sinkId] ?? 0;
  if (vm + k8s <= 0) return undefined;
  const vmPercent = Math.round((100 * vm) / (vm + k8s));
  return { vm: vmPercent, k8s: 100 - vmPercent };
}

/**
 * The VirtualService routing the mesh host's HTTP and TCP traffic by the split's weights. With
 * `podSubset` false (no pod carries `podSubsetLabels`, istio-pods.ts) the pod share goes to the
 * host without a subset: every endpoint of the Service, pods and VM entries, by their weights —
 * never empty while either side has one, where the empty `k8s` subset fails every call.
 */
export function renderVirtualService(owner: SliceOwner, origin: RegistryId, weights: { vm: number; k8s: number }, opts: IstioRenderOptions, podSubset = true): KVirtualService {
  const host = meshHost(owner, opts.clusterDomain);
  // A zero-weight destination is left out rather than sent: nothing is routed to it either way.
  const route: RouteDestination[] = [
    { destination: { host, subset: VM_SUBSET }, weight: weights.vm },
    { destination: podSubset ? { host, subset: K8S_SUBSET } : { host }, weight: weights.k8s },
  ].filter((d) => d.weight > 0);
  return {
    apiVersion: 'networking.istio.io/v1',
    kind: 'VirtualService',
    metadata: istioMeta(owner, routingName(owner), origin),
    spec: { hosts: [host], exportTo: [...opts.exportTo], http: [{ name: 'isthmus-split', route }], tcp: [{ route: route.map((d) => ({ ...d, destination: { ...d.destination } })) }] },
  };
}

/** Canonical JSON (sorted keys), so equal objects compare equal whatever the key order. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined).sort(([a], [b]) => a.localeCompare(b));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/**
 * What we render of an object: its whole spec and our own label and annotation keys (labels or
 * annotations someone else added are theirs and not compared). Equal fingerprints = no write.
 */
export function istioFingerprint(rendered: IstioObject<unknown>, actual: IstioObject<unknown>): [string, string] {
  const pick = (from: Record<string, string> | undefined, keys: Record<string, string> | undefined): Record<string, string | undefined> =>
    Object.fromEntries(Object.keys(keys ?? {}).map((k) => [k, from?.[k]]));
  const mine = rendered.metadata;
  const view = (o: IstioObject<unknown>): string => canonical({ spec: o.spec, labels: pick(o.metadata?.labels, mine?.labels), annotations: pick(o.metadata?.annotations, mine?.annotations) });
  return [view(rendered), view(actual)];
}

import { isIP } from 'node:net';
import type { Endpoint, RegistryId, ServicePort, ServiceSnapshot } from '../../bridge/model/index.ts';
import { conditionsOf, DEFAULT_WEIGHT, endpointProblem, globToRegExp, liveness, refProblem } from '../../bridge/model/index.ts';
import { isIsthmusObject, K8S } from './markers.ts';
import type { AddressMode, KubernetesSourceOptions } from './options.ts';
import type { KEndpointSlice, KNode, KService, KSliceEndpoint } from './types.ts';
import { type KWorkloadEntryRead, workloadEntryEndpoints } from './workload-entries.ts';

/** Name given to a Service's single unnamed port (the model needs port names). */
export const UNNAMED_PORT = 'default';
const DROPPED_ANNOTATIONS = new Set(['kubectl.kubernetes.io/last-applied-configuration']);

export interface ExportInput {
  readonly registry: RegistryId;
  readonly service: KService;
  /** Every EndpointSlice labelled with the Service's name, whoever manages it. */
  readonly slices: readonly KEndpointSlice[];
  readonly options: KubernetesSourceOptions;
  readonly node: (name: string) => KNode | undefined;
  /** The WorkloadEntries of the Service's namespace (source.istio.workloadEntries); absent: none read. */
  readonly workloadEntries?: readonly KWorkloadEntryRead[];
}

export interface ExportResult {
  /** Undefined: the Service is not exported (Isthmus-written, not selected, or ExternalName). */
  readonly snapshot?: ServiceSnapshot;
  /** Why endpoints or the whole Service were left out, keyed by a native id. */
  readonly problems: readonly { nativeId: string; reason: string }[];
}

/** Does the source's own selection (globs, labels, annotations) pick this Service? */
export function selectedByOptions(service: KService, options: Pick<KubernetesSourceOptions, 'services' | 'labels' | 'annotations' | 'excludeNamespaces'>): boolean {
  const meta = service.metadata ?? {};
  const name = meta.name ?? '';
  if (options.excludeNamespaces.includes(meta.namespace ?? '')) return false;
  if (options.services.length > 0) {
    const full = `${meta.namespace ?? ''}/${name}`;
    if (!options.services.some((g) => globToRegExp(g).test(name) || globToRegExp(g).test(full))) return false;
  }
  for (const [k, v] of Object.entries(options.labels)) if (meta.labels?.[k] !== v) return false;
  for (const [k, v] of Object.entries(options.annotations)) if (meta.annotations?.[k] !== v) return false;
  return true;
}

/**
 * A Service and its EndpointSlices as one snapshot (Kubernetes → other registries). Pure and
 * total: whatever the objects hold, it returns, and anything it cannot carry is a problem (the
 * source quarantines it) rather than an exception that would stall every other Service.
 * Slices written by any bridge are skipped (loop prevention); a Service written by a bridge is
 * not exported at all. Per endpoint the slice conditions are kept as they are, so a terminating
 * but still serving pod is draining from the first event that says so.
 */
export function serviceToSnapshot(input: ExportInput): ExportResult {
  try {
    return convertService(input);
  } catch (err) {
    // Objects come from the API server's JSON, so a shape the types did not foresee is possible.
    const meta = input.service.metadata;
    const reason = `cannot convert the Service: ${err instanceof Error ? err.message : String(err)}`;
    return { problems: [{ nativeId: `${meta?.namespace ?? ''}/${meta?.name ?? ''}`, reason }] };
  }
}

function convertService(input: ExportInput): ExportResult {
  const { service, registry, options } = input;
  const meta = service.metadata ?? {};
  const namespace = meta.namespace ?? '';
  const name = meta.name ?? '';
  if (isIsthmusObject(meta) || service.spec?.type === 'ExternalName' || !selectedByOptions(service, options)) return { problems: [] };
  const svcId = `${namespace}/${name}`;
  const bad = refProblem({ namespace, name });
  if (bad !== undefined) return { problems: [{ nativeId: svcId, reason: bad }] };
  const problems: { nativeId: string; reason: string }[] = [];

  const servicePorts = (service.spec?.ports ?? []).map((p) => ({ ...p, name: portName(p.name), given: p.name })).filter((p) => {
    if (Number.isInteger(p.port) && p.port >= 1 && p.port <= 65535) return true;
    problems.push({ nativeId: svcId, reason: `port ${p.name}=${String(p.port)} is outside 1-65535` });
    return false;
  });
  const primary = meta.annotations?.[K8S.exportPort];
  if (primary !== undefined && !servicePorts.some((p) => p.name === primary)) {
    problems.push({ nativeId: svcId, reason: `annotation ${K8S.exportPort}=${primary} names no port of the Service` });
  }
  // The primary port goes first: sinks that store one port per instance take ports[0].
  const ordered = [...servicePorts].sort((a, b) => Number(b.name === primary) - Number(a.name === primary));
  const ports: ServicePort[] = ordered.map((p) => ({ name: p.name, port: p.port, ...(p.appProtocol === undefined ? {} : { protocol: p.appProtocol }) }));
  const order = ordered.map((p) => p.name);

  const pods = podEndpoints(input, order, problems);
  const mode = addressModeOf(service, options.addressMode, problems);
  let endpoints: Endpoint[];
  switch (mode) {
    case 'podIP':
      endpoints = pods;
      break;
    case 'nodePort':
      endpoints = nodePortEndpoints(input, pods, ordered, problems);
      break;
    case 'loadBalancer': {
      const ingress = service.status?.loadBalancer?.ingress ?? [];
      const ips = ingress.flatMap((i) => (i.ip !== undefined && isIP(i.ip) !== 0 ? [i.ip] : []));
      if (ingress.length > ips.length) problems.push({ nativeId: svcId, reason: 'LoadBalancer ingress without an IP (hostname only) is not exported' });
      endpoints = ips.flatMap((ip) => aggregate(registry, `${svcId}@${ip}`, ip, portsOf(ordered, (p) => p.port), pods));
      break;
    }
    case 'gateway': {
      const gw = options.gateway;
      if (gw === undefined) {
        problems.push({ nativeId: svcId, reason: 'address mode gateway needs source.gateway.address' });
        endpoints = [];
      } else {
        endpoints = aggregate(registry, `${svcId}@gateway`, gw.address, portsOf(ordered, (p) => gw.ports[p.name] ?? p.port), pods);
      }
      break;
    }
  }

  if (input.workloadEntries !== undefined) {
    // VMs are reached at their own address in every address mode: no node, LB or gateway fronts them.
    const vms = workloadEntryEndpoints(registry, service, ordered.map((p) => ({ given: p.given, exportName: p.name, port: p.port, targetPort: p.targetPort, protocol: p.protocol })), input.workloadEntries, new Set(endpoints.map((ep) => ep.address)));
    endpoints = [...endpoints, ...vms.endpoints];
    problems.push(...vms.problems);
  }

  endpoints = endpoints.filter((ep) => {
    const problem = endpointProblem(ep);
    if (problem !== undefined) problems.push({ nativeId: ep.origin.nativeId, reason: problem });
    return problem === undefined;
  });

  const metadata: Record<string, string> = { ...(meta.labels ?? {}) };
  for (const [k, v] of Object.entries(meta.annotations ?? {})) if (!DROPPED_ANNOTATIONS.has(k)) metadata[k] = v;
  const snapshot: ServiceSnapshot = {
    ref: { namespace, name },
    ports,
    endpoints: endpoints.sort((a, b) => a.address.localeCompare(b.address)),
    metadata,
    origin: registry,
    ...(meta.resourceVersion === undefined ? {} : { revision: meta.resourceVersion }),
  };
  return { snapshot, problems };
}

function addressModeOf(service: KService, fallback: AddressMode, problems: { nativeId: string; reason: string }[]): AddressMode {
  const wanted = service.metadata?.annotations?.[K8S.addressMode];
  if (wanted === undefined) return fallback;
  if (wanted === 'podIP' || wanted === 'nodePort' || wanted === 'loadBalancer' || wanted === 'gateway') return wanted;
  problems.push({ nativeId: `${service.metadata?.namespace ?? ''}/${service.metadata?.name ?? ''}`, reason: `unknown ${K8S.addressMode} ${wanted}; using ${fallback}` });
  return fallback;
}

function portName(name: string | undefined): string {
  return name === undefined || name === '' ? UNNAMED_PORT : name;
}

/** Endpoints of the native slices, merged by address (one pod can appear in several slices). */
function podEndpoints(input: ExportInput, order: readonly string[], problems: { nativeId: string; reason: string }[]): Endpoint[] {
  const namespace = input.service.metadata?.namespace ?? '';
  const svc = input.service.metadata?.name ?? '';
  const byAddress = new Map<string, Endpoint>();
  for (const slice of input.slices) {
    if (isIsthmusObject(slice.metadata)) continue;
    if (slice.addressType !== 'IPv4' && slice.addressType !== 'IPv6') continue;
    const ports: Record<string, number> = {};
    for (const p of slice.ports ?? []) if (p.port !== undefined) ports[portName(p.name)] = p.port;
    for (const ep of slice.endpoints ?? []) {
      const address = ep.addresses[0];
      if (address === undefined) continue;
      const nativeId = ep.targetRef?.kind === 'Pod' && ep.targetRef.name !== undefined ? `${namespace}/${ep.targetRef.name}` : `${namespace}/${svc}/${address}`;
      if (isIP(address) === 0) {
        problems.push({ nativeId, reason: `address ${address} is not an IP` });
        continue;
      }
      const old = byAddress.get(address);
      byAddress.set(address, toEndpoint(input.registry, nativeId, address, ordered({ ...old?.ports, ...ports }, order), ep));
    }
  }
  return [...byAddress.values()];
}

function toEndpoint(registry: RegistryId, nativeId: string, address: string, ports: Record<string, number>, ep: KSliceEndpoint): Endpoint {
  const c = ep.conditions ?? {};
  // nil means ready, serving, not terminating (discovery/v1 types.go).
  const ready = c.ready ?? true;
  const terminating = c.terminating ?? false;
  return {
    address,
    ports,
    ready,
    serving: c.serving ?? ready,
    terminating,
    weight: DEFAULT_WEIGHT,
    ...(ep.zone === undefined ? {} : { zone: ep.zone }),
    ...(ep.nodeName === undefined ? {} : { node: ep.nodeName }),
    metadata: ep.targetRef?.kind === 'Pod' && ep.targetRef.name !== undefined ? { 'k8s-pod': ep.targetRef.name } : {},
    origin: { registry, nativeId },
  };
}

function ordered(ports: Record<string, number>, order: readonly string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const n of order) if (ports[n] !== undefined) out[n] = ports[n];
  for (const [n, p] of Object.entries(ports)) if (out[n] === undefined) out[n] = p;
  return out;
}

function portsOf(servicePorts: readonly { name: string; port: number }[], pick: (p: { name: string; port: number }) => number): Record<string, number> {
  const out: Record<string, number> = {};
  for (const p of servicePorts) out[p.name] = pick(p);
  return out;
}

/**
 * One endpoint standing for many pods (a node, a load balancer, a gateway): ready if any pod
 * is, draining if the only serving pods are terminating, absent if there are no pods at all.
 */
function aggregate(registry: RegistryId, nativeId: string, address: string, ports: Record<string, number>, pods: readonly Endpoint[]): Endpoint[] {
  if (pods.length === 0 || Object.keys(ports).length === 0) return [];
  const states = pods.map(liveness);
  const state = states.includes('ready') ? 'ready' : states.includes('draining') ? 'draining' : 'down';
  const zone = pods.find((p) => p.zone !== undefined)?.zone;
  return [{ address, ports, ...conditionsOf(state), weight: DEFAULT_WEIGHT, ...(zone === undefined ? {} : { zone }), metadata: {}, origin: { registry, nativeId } }];
}

function nodePortEndpoints(input: ExportInput, pods: readonly Endpoint[], servicePorts: readonly { name: string; port: number; nodePort?: number }[], problems: { nativeId: string; reason: string }[]): Endpoint[] {
  const svcId = `${input.service.metadata?.namespace ?? ''}/${input.service.metadata?.name ?? ''}`;
  const withNodePort = servicePorts.filter((p) => p.nodePort !== undefined);
  if (withNodePort.length === 0) {
    problems.push({ nativeId: svcId, reason: 'address mode nodePort but the Service has no nodePort' });
    return [];
  }
  const ports: Record<string, number> = {};
  for (const p of withNodePort) ports[p.name] = p.nodePort ?? p.port;
  const byNode = new Map<string, Endpoint[]>();
  for (const pod of pods) {
    if (pod.node === undefined) continue;
    byNode.set(pod.node, [...(byNode.get(pod.node) ?? []), pod]);
  }
  const out: Endpoint[] = [];
  for (const [nodeName, onNode] of byNode) {
    const addr = input.node(nodeName)?.status?.addresses?.find((a) => a.type === input.options.nodeAddressType)?.address;
    if (addr === undefined || isIP(addr) === 0) {
      problems.push({ nativeId: `${svcId}@${nodeName}`, reason: `node ${nodeName} has no ${input.options.nodeAddressType} address (is source.watchNodes on?)` });
      continue;
    }
    for (const e of aggregate(input.registry, `${svcId}@${nodeName}`, addr, ports, onNode)) out.push({ ...e, node: nodeName });
  }
  return out;
}

import { createHash } from 'node:crypto';
import { isIP } from 'node:net';
import type { Endpoint } from '../../bridge/model/index.ts';
import { DEFAULT_WEIGHT, endpointKey } from '../../bridge/model/index.ts';
import { sliceAddressProblem } from './addresses.ts';
import { K8S } from './markers.ts';
import type { KEndpointSlice, KSliceEndpoint } from './types.ts';

/** Who a set of imported slices belongs to: one bridge, one Service, one original name. */
export interface SliceOwner {
  readonly bridgeId: string;
  readonly namespace: string;
  /** The Kubernetes Service name (DNS-1035). */
  readonly service: string;
  readonly originalName: string;
  readonly originalNamespace: string;
}

export interface SlicePlan {
  readonly create: KEndpointSlice[];
  /** Full replacements carrying the observed resourceVersion (optimistic concurrency). */
  readonly update: KEndpointSlice[];
  readonly delete: KEndpointSlice[];
  /** Endpoints that cannot be stored in a slice, with why. */
  readonly refused: { endpoint: Endpoint; reason: string }[];
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** Why an endpoint cannot go into an EndpointSlice, or undefined. */
export function sliceProblem(ep: Endpoint): string | undefined {
  const bad = sliceAddressProblem(ep.address);
  if (bad !== undefined) return bad;
  for (const [name, port] of Object.entries(ep.ports)) {
    if (name.length > 63 || !DNS_LABEL.test(name)) return `port name ${JSON.stringify(name)} is not a DNS label`;
    if (!Number.isInteger(port) || port < 1 || port > 65535) return `port ${name}=${port} is outside 1-65535`;
  }
  return undefined;
}

/**
 * Slices group endpoints that share origin registry, address family and port set, because a
 * slice has one addressType and one port list, and per-origin slices let `origin` round-trip.
 */
function groupOf(ep: Endpoint): string {
  const family = isIP(ep.address) === 6 ? 'IPv6' : 'IPv4';
  return `${ep.origin.registry}|${family}|${portsKey(ep.ports)}`;
}

/**
 * The group of a stored slice, spelled exactly as `groupOf` spells it for its endpoints: with
 * any other ordering ("http2=81" sorts before "http=80" by code unit) an endpoint would never
 * be found at home and would move to a fresh slice on every pass.
 */
function groupOfSlice(slice: KEndpointSlice): string {
  const ports: Record<string, number> = {};
  for (const p of slice.ports ?? []) ports[p.name ?? ''] = p.port ?? 0;
  return `${slice.metadata?.labels?.[K8S.origin] ?? ''}|${slice.addressType}|${portsKey(ports)}`;
}

/** Part of the slice name hash (sliceNameBase): changing this spelling renames every slice. */
function portsKey(ports: Readonly<Record<string, number>>): string {
  return Object.entries(ports).sort(([a], [b]) => a.localeCompare(b)).map(([n, p]) => `${n}=${p}`).join(',');
}

/** Model endpoints stored in one of our slices (what observe returns). */
export function sliceEndpoints(slice: KEndpointSlice): Endpoint[] {
  const ports: Record<string, number> = {};
  for (const p of slice.ports ?? []) if (p.name !== undefined && p.port !== undefined) ports[p.name] = p.port;
  const registry = slice.metadata?.labels?.[K8S.origin] ?? '';
  const ids = parseIds(slice.metadata?.annotations?.[K8S.originIds]);
  return (slice.endpoints ?? []).flatMap((ep, i) => {
    const address = ep.addresses[0];
    if (address === undefined) return [];
    const c = ep.conditions ?? {};
    const ready = c.ready ?? true;
    return [{
      address,
      ports: { ...ports },
      ready,
      serving: c.serving ?? ready,
      terminating: c.terminating ?? false,
      weight: DEFAULT_WEIGHT,
      ...(ep.zone === undefined ? {} : { zone: ep.zone }),
      ...(ep.nodeName === undefined ? {} : { node: ep.nodeName }),
      metadata: {},
      origin: { registry, nativeId: ids[i] ?? '' },
    }];
  });
}

function parseIds(text: string | undefined): string[] {
  if (text === undefined) return [];
  try {
    const v: unknown = JSON.parse(text);
    return Array.isArray(v) ? v.map(String) : [];
  } catch {
    return [];
  }
}

function sliceEndpoint(ep: Endpoint): KSliceEndpoint {
  return {
    addresses: [ep.address],
    conditions: { ready: ep.ready, serving: ep.serving, terminating: ep.terminating },
    ...(ep.node === undefined ? {} : { nodeName: ep.node }),
    ...(ep.zone === undefined ? {} : { zone: ep.zone }),
  };
}

export function sliceNameBase(owner: SliceOwner, group: string): string {
  const h = createHash('sha256').update(`${owner.bridgeId}\u0000${group}`).digest('hex').slice(0, 8);
  return `${owner.service.slice(0, 200)}-${h}`;
}

/** The slice we want, built from endpoints; `base` supplies name and resourceVersion. */
export function renderSlice(owner: SliceOwner, name: string, endpoints: readonly Endpoint[], base?: KEndpointSlice): KEndpointSlice {
  const first = endpoints[0];
  const registry = first?.origin.registry ?? base?.metadata?.labels?.[K8S.origin] ?? '';
  const ports = Object.entries(first?.ports ?? {}).sort(([a], [b]) => a.localeCompare(b)).map(([n, p]) => ({ name: n, port: p, protocol: 'TCP' }));
  return {
    metadata: {
      name,
      namespace: owner.namespace,
      ...(base?.metadata?.resourceVersion === undefined ? {} : { resourceVersion: base.metadata.resourceVersion }),
      labels: {
        ...(base?.metadata?.labels ?? {}),
        [K8S.serviceName]: owner.service,
        [K8S.sliceManagedBy]: K8S.sliceController,
        [K8S.managedBy]: owner.bridgeId,
        [K8S.origin]: registry,
      },
      annotations: {
        ...(base?.metadata?.annotations ?? {}),
        [K8S.originalName]: owner.originalName,
        [K8S.originalNamespace]: owner.originalNamespace,
        [K8S.originIds]: JSON.stringify(endpoints.map((e) => e.origin.nativeId)),
      },
    },
    addressType: first !== undefined && isIP(first.address) === 6 ? 'IPv6' : (base?.addressType ?? 'IPv4'),
    endpoints: endpoints.map(sliceEndpoint),
    ports,
  };
}

/** What decides whether a slice needs a write: everything we set, nothing the server adds. */
export function sliceFingerprint(slice: KEndpointSlice): string {
  const labels = slice.metadata?.labels ?? {};
  const ann = slice.metadata?.annotations ?? {};
  return JSON.stringify([
    [K8S.serviceName, K8S.sliceManagedBy, K8S.managedBy, K8S.origin].map((k) => labels[k] ?? null),
    [K8S.originalName, K8S.originalNamespace, K8S.originIds].map((k) => ann[k] ?? null),
    slice.addressType,
    (slice.ports ?? []).map((p) => [p.name ?? '', p.port ?? 0, p.protocol ?? 'TCP']).sort(),
    (slice.endpoints ?? []).map((e) => [e.addresses, e.conditions?.ready ?? true, e.conditions?.serving ?? e.conditions?.ready ?? true, e.conditions?.terminating ?? false, e.nodeName ?? null, e.zone ?? null]),
  ]);
}

/**
 * Desired endpoints → the fewest slice writes. Pure. An endpoint stays in the slice that already
 * holds it (so one changed endpoint rewrites one slice, never reshuffles the rest); new ones fill
 * slices of their group with room, then new slices with the lowest free deterministic name.
 * Slices left empty are deleted. `existing` must be only this bridge's slices for this Service.
 */
export function planSlices(owner: SliceOwner, desired: readonly Endpoint[], existing: readonly KEndpointSlice[], maxPerSlice: number): SlicePlan {
  const refused: { endpoint: Endpoint; reason: string }[] = [];
  const want = new Map<string, { ep: Endpoint; group: string }>();
  for (const ep of desired) {
    const problem = sliceProblem(ep);
    if (problem !== undefined) refused.push({ endpoint: ep, reason: problem });
    else want.set(endpointKey(ep), { ep, group: groupOf(ep) });
  }
  const placed = new Set<string>();
  const sorted = [...existing].sort((a, b) => (a.metadata?.name ?? '').localeCompare(b.metadata?.name ?? ''));
  const contents = new Map<KEndpointSlice, Endpoint[]>();
  for (const slice of sorted) {
    const group = groupOfSlice(slice);
    const kept: Endpoint[] = [];
    for (const old of sliceEndpoints(slice)) {
      const key = endpointKey(old);
      const w = want.get(key);
      if (w === undefined || w.group !== group || placed.has(key) || kept.length >= maxPerSlice) continue;
      placed.add(key);
      kept.push(w.ep);
    }
    contents.set(slice, kept);
  }
  const usedNames = new Set(existing.map((s) => s.metadata?.name ?? ''));
  const fresh: { name: string; group: string; endpoints: Endpoint[] }[] = [];
  const pending = [...want.entries()].filter(([k]) => !placed.has(k)).sort(([a], [b]) => a.localeCompare(b));
  for (const [, { ep, group }] of pending) {
    const home = sorted.find((s) => groupOfSlice(s) === group && (contents.get(s)?.length ?? 0) < maxPerSlice);
    if (home !== undefined) {
      contents.get(home)?.push(ep);
      continue;
    }
    let slot = fresh.find((f) => f.group === group && f.endpoints.length < maxPerSlice);
    if (slot === undefined) {
      const base = sliceNameBase(owner, group);
      let n = 0;
      while (usedNames.has(`${base}-${n}`)) n++;
      slot = { name: `${base}-${n}`, group, endpoints: [] };
      usedNames.add(slot.name);
      fresh.push(slot);
    }
    slot.endpoints.push(ep);
  }
  const plan: SlicePlan = { create: [], update: [], delete: [], refused };
  for (const [slice, eps] of contents) {
    if (eps.length === 0) {
      plan.delete.push(slice);
      continue;
    }
    const next = renderSlice(owner, slice.metadata?.name ?? '', eps, slice);
    if (sliceFingerprint(next) !== sliceFingerprint(slice)) plan.update.push(next);
  }
  for (const f of fresh) plan.create.push(renderSlice(owner, f.name, f.endpoints));
  return plan;
}

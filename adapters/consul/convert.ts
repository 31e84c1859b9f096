import type { Endpoint, Liveness, RegistryId, ServiceRef, ServiceSnapshot } from '../../bridge/model/index.ts';
import { DEFAULT_WEIGHT, MAX_WEIGHT, conditionsOf, endpointKey, endpointProblem, globToRegExp, refKey, refProblem } from '../../bridge/model/index.ts';
import type { HealthEntry, NativeCheck, NativeNode, NativeService } from './native.ts';

/** Consul → model (the source direction). Everything here is pure. */

export interface ImportSettings {
  readonly registry: RegistryId;
  readonly namespace: string;
  readonly namespaceMetaKey?: string;
  readonly portName: string;
  readonly zoneMetaKey: string;
  readonly warningAs: Liveness;
  readonly importConsulK8s: boolean;
  readonly services: readonly string[];
  readonly tags: readonly string[];
  readonly meta: Readonly<Record<string, string>>;
}

/** Model metadata key of a Consul tag. Tags are a set, so the value is always `true`. */
export function tagKey(tag: string): string {
  return `tag:${tag}`;
}

/**
 * Records any Isthmus wrote (ours or another bridge's): never imported (loop prevention). The
 * synthetic node is recognised by its Meta, not its `isthmus-` name: a real agent may be called
 * that (our own test agent is `isthmus-it`), and its applications are native.
 */
export function isIsthmusRecord(node: NativeNode, svc: NativeService): boolean {
  const meta = svc.Meta ?? {};
  return (
    node.Meta?.['external-source'] === 'isthmus' ||
    meta['external-source'] === 'isthmus' ||
    meta['isthmus-managed-by'] !== undefined
  );
}

/** What consul-k8s catalog sync wrote (it came from Kubernetes in the first place). */
export function isConsulK8sRecord(node: NativeNode, svc: NativeService): boolean {
  return (svc.Tags ?? []).includes('k8s') || svc.Meta?.['external-source'] === 'kubernetes' || node.Meta?.['external-source'] === 'kubernetes';
}

/**
 * Whether a service name from /v1/catalog/services is watched at all. Tags are the union over
 * the service's instances, so a tag filter can rule a service out here but not in.
 */
export function wantsService(name: string, tags: readonly string[] | null, s: ImportSettings): boolean {
  if (name === 'consul') return false; // the servers' own service
  if (!s.services.some((g) => globToRegExp(g).test(name))) return false;
  const have = new Set(tags ?? []);
  return s.tags.every((t) => have.has(t));
}

/** Worst status of the instance's checks, node checks included (as Consul's own ?passing does). */
export function worstStatus(checks: readonly NativeCheck[] | null | undefined): 'passing' | 'warning' | 'critical' {
  let worst: 'passing' | 'warning' | 'critical' = 'passing';
  for (const c of checks ?? []) {
    if (c.Status === 'critical' || c.Status === 'maintenance') return 'critical';
    if (c.Status === 'warning') worst = 'warning';
  }
  return worst;
}

export function livenessOf(status: 'passing' | 'warning' | 'critical', warningAs: Liveness): Liveness {
  if (status === 'passing') return 'ready';
  return status === 'warning' ? warningAs : 'down';
}

/**
 * Why a Consul service name cannot become a model name, or undefined when it can. Consul accepts
 * names the model refuses (`probe/slash`, control characters, over 512 characters); such a
 * service is quarantined as a whole and never watched.
 */
export function serviceNameProblem(name: string, s: ImportSettings): string | undefined {
  return refProblem({ namespace: s.namespace, name });
}

export function refOf(name: string, meta: Readonly<Record<string, string>> | null | undefined, s: ImportSettings): ServiceRef {
  const fromMeta = s.namespaceMetaKey === undefined ? undefined : meta?.[s.namespaceMetaKey];
  return { namespace: fromMeta !== undefined && fromMeta !== '' ? fromMeta : s.namespace, name };
}

export function nativeIdOf(entry: HealthEntry): string {
  // Also names malformed entries in quarantine reports, so it must not trust the shape.
  const e = entry as Partial<HealthEntry> | null;
  return `${String(e?.Node?.Node)}/${String(e?.Service?.ID)}`;
}

/** Whether a health entry has the shape the conversion relies on (Consul's JSON, not our types). */
function malformed(entry: HealthEntry): string | undefined {
  const e = entry as Partial<HealthEntry> | null;
  if (typeof e?.Node?.Node !== 'string' || typeof e.Service?.ID !== 'string') return 'health entry without Node.Node or Service.ID';
  if (e.Service.Port !== undefined && typeof e.Service.Port !== 'number') return `port ${JSON.stringify(e.Service.Port)} is not a number`;
  for (const [where, rec] of [['Meta', e.Service.Meta], ['node Meta', e.Node.Meta]] as const) {
    if (rec !== undefined && rec !== null && (typeof rec !== 'object' || Object.values(rec).some((v) => typeof v !== 'string'))) return `${where} is not a string map`;
  }
  if (e.Checks !== undefined && e.Checks !== null && (!Array.isArray(e.Checks) || e.Checks.some((c) => typeof c !== 'object' || c === null))) return 'Checks is not a list of checks';
  if (e.Service.Tags !== undefined && e.Service.Tags !== null && (!Array.isArray(e.Service.Tags) || e.Service.Tags.some((t) => typeof t !== 'string'))) return 'Tags is not a list of strings';
  return undefined;
}

/** Spring Cloud Consul writes `secure=true|false`; an explicit `protocol` Meta wins. */
function protocolOf(meta: Readonly<Record<string, string>>): string | undefined {
  const explicit = meta['protocol'];
  if (explicit !== undefined && explicit !== '') return explicit;
  if (meta['secure'] === 'true') return 'https';
  if (meta['secure'] === 'false') return 'http';
  return undefined;
}

/**
 * The instance's weight on the model scale. Consul weights are relative with 1 as default; ours
 * have 100. Meta `weight` (what Spring Cloud LoadBalancer's weighted supplier reads, on the same
 * scale as `Weights.Passing`) wins when it is a positive number: Spring Cloud Consul never sets
 * `Weights`, so its Passing is always the default 1 and says nothing, while Meta `weight` is what
 * the instance's weighted callers actually use. Otherwise `Weights.Passing`, else 100.
 */
export function weightOf(svc: HealthEntry['Service']): number {
  const raw = svc.Meta?.['weight'];
  const fromMeta = raw === undefined || raw.trim() === '' ? Number.NaN : Number(raw);
  if (Number.isFinite(fromMeta) && fromMeta > 0) return Math.min(MAX_WEIGHT, Math.round(fromMeta * DEFAULT_WEIGHT));
  const passing = svc.Weights?.Passing;
  return passing === undefined || passing <= 0 ? DEFAULT_WEIGHT : Math.min(MAX_WEIGHT, passing * DEFAULT_WEIGHT);
}

/** One health entry as a model endpoint. */
export function toEndpoint(entry: HealthEntry, s: ImportSettings): Endpoint {
  const svc = entry.Service;
  const meta = svc.Meta ?? {};
  const metadata: Record<string, string> = { ...meta };
  for (const t of svc.Tags ?? []) metadata[tagKey(t)] = 'true';
  const weight = weightOf(svc);
  const protocol = protocolOf(meta);
  const zone = meta[s.zoneMetaKey];
  return {
    address: svc.Address !== undefined && svc.Address !== '' ? svc.Address : entry.Node.Address,
    ports: { [s.portName]: svc.Port ?? 0 },
    ...(protocol === undefined ? {} : { protocol }),
    ...conditionsOf(livenessOf(worstStatus(entry.Checks), s.warningAs)),
    weight,
    ...(zone === undefined || zone === '' ? {} : { zone }),
    node: entry.Node.Node,
    metadata,
    origin: { registry: s.registry, nativeId: nativeIdOf(entry) },
  };
}

export interface ImportResult {
  readonly snapshots: readonly ServiceSnapshot[];
  /** Instances left out with the reason; `ref` only when it is itself valid. */
  readonly quarantined: readonly { readonly nativeId: string; readonly ref?: ServiceRef; readonly reason: string }[];
}

/**
 * The snapshots of one Consul service (one per canonical namespace found in it). Instances that
 * Isthmus wrote, consul-k8s wrote (unless imported), or that miss the tag/Meta filters are left
 * out; a service with no instance left yields no snapshot, so our own exports stay invisible.
 * Instances the model refuses (the service name, a namespace from Meta, the endpoint itself, or
 * JSON not shaped as Consul documents) are quarantined with the reason; nothing here throws.
 */
export function toSnapshots(name: string, entries: readonly HealthEntry[], s: ImportSettings, revision?: string): ImportResult {
  const groups = new Map<string, { ref: ServiceRef; endpoints: Map<string, Endpoint>; ports: Map<number, number>; tags: Set<string> }>();
  const quarantined: { nativeId: string; ref?: ServiceRef; reason: string }[] = [];
  const nameProblem = serviceNameProblem(name, s);
  for (const entry of entries) {
    const shape = malformed(entry);
    if (shape !== undefined) {
      quarantined.push({ nativeId: nativeIdOf(entry), reason: shape });
      continue;
    }
    const svc = entry.Service;
    if (isIsthmusRecord(entry.Node, svc)) continue;
    if (!s.importConsulK8s && isConsulK8sRecord(entry.Node, svc)) continue;
    const tags = svc.Tags ?? [];
    if (!s.tags.every((t) => tags.includes(t))) continue;
    if (!Object.entries(s.meta).every(([k, v]) => svc.Meta?.[k] === v)) continue;
    const ref = refOf(name, svc.Meta, s);
    // The name alone may be fine while a namespace from Meta is not: checked per instance.
    const refIssue = nameProblem ?? refProblem(ref);
    const ep = toEndpoint(entry, s);
    const problem = refIssue ?? endpointProblem(ep);
    if (problem !== undefined) {
      quarantined.push({ nativeId: nativeIdOf(entry), ...(refIssue === undefined ? { ref } : {}), reason: problem });
      continue;
    }
    const key = refKey(ref);
    let g = groups.get(key);
    if (g === undefined) {
      g = { ref, endpoints: new Map(), ports: new Map(), tags: new Set() };
      groups.set(key, g);
    }
    // Two registrations of one address:port (say an agent and a catalog entry) are one endpoint.
    const id = endpointKey(ep);
    const prior = g.endpoints.get(id);
    if (prior === undefined || ep.origin.nativeId < prior.origin.nativeId) g.endpoints.set(id, ep);
    const port = svc.Port ?? 0;
    g.ports.set(port, (g.ports.get(port) ?? 0) + 1);
    for (const t of tags) g.tags.add(t);
  }
  const snapshots: ServiceSnapshot[] = [];
  for (const g of [...groups.values()].sort((a, b) => refKey(a.ref).localeCompare(refKey(b.ref)))) {
    const endpoints = [...g.endpoints.values()].sort((a, b) => endpointKey(a).localeCompare(endpointKey(b)));
    const common = [...g.ports.entries()].sort((a, b) => b[1] - a[1] || a[0] - b[0])[0]?.[0] ?? 0;
    const protocol = endpoints.find((e) => e.protocol !== undefined)?.protocol;
    const metadata: Record<string, string> = {};
    for (const t of [...g.tags].sort()) metadata[tagKey(t)] = 'true';
    snapshots.push({
      ref: g.ref,
      ports: [{ name: s.portName, port: common, ...(protocol === undefined ? {} : { protocol }) }],
      endpoints,
      metadata,
      origin: s.registry,
      ...(revision === undefined ? {} : { revision }),
    });
  }
  return { snapshots, quarantined };
}

// Istio WorkloadEntries (VMs onboarded to the mesh, auto-registered by istiod or written by hand)
// as endpoints of the Kubernetes Services that select them, resolved the way Istio's Kubernetes
// registry resolves them, so VM callers see the same members as meshed callers. Pure; the I/O
// lives in workload-entry-watch.ts.
import { isIP } from 'node:net';
import type { Endpoint, RegistryId } from '../../bridge/model/index.ts';
import { conditionsOf, DEFAULT_WEIGHT, MAX_WEIGHT } from '../../bridge/model/index.ts';
import type { CustomResource } from './client.ts';
import { ISTIO_GROUP, type KWorkloadEntry } from './istio-types.ts';
import { isIsthmusObject } from './markers.ts';
import type { KService } from './types.ts';

/** v1 first (Istio ≥ 1.22); v1beta1 for older control planes that do not serve v1 yet. */
export const WORKLOAD_ENTRY_VERSIONS = ['v1', 'v1beta1'] as const;
export const workloadEntryResource = (version: string): CustomResource => ({ group: ISTIO_GROUP, version, plural: 'workloadentries' });

/** Keys istiod writes on the entries it creates and reads for health (pilot/pkg/autoregistration, pilot/pkg/model/status). */
export const ISTIO_ENTRY = {
  autoRegistrationGroup: 'istio.io/autoRegistrationGroup',
  workloadController: 'istio.io/workloadController',
  healthChecks: 'proxy.istio.io/health-checks-enabled',
  healthy: 'Healthy',
} as const;

/** Metadata keys on the exported endpoint: where it came from on the mesh side. */
export const ENTRY_META = {
  entry: 'istio-workload-entry',
  group: 'istio-autoregistration-group',
  locality: 'istio-locality',
  network: 'istio-network',
  serviceAccount: 'istio-service-account',
  /** The model has no "VM side" field; this says the endpoint is a VM, not a pod. */
  side: 'isthmus-side',
} as const;

export interface KIstioCondition {
  type?: string;
  status?: string;
  reason?: string;
  message?: string;
}

/** A WorkloadEntry as read (ours are written without status; istiod's health probe sets it). */
export type KWorkloadEntryRead = KWorkloadEntry & { status?: { conditions?: KIstioCondition[] } };

/** A Service port as the entry conversion needs it: the name as written and the exported name. */
export interface EntryServicePort {
  /** The name in the Service (absent for a single unnamed port): the key Istio looks up. */
  readonly given: string | undefined;
  /** The port name in the snapshot (`default` for an unnamed one). */
  readonly exportName: string;
  readonly port: number;
  readonly targetPort?: number | string | undefined;
  readonly protocol?: string | undefined;
}

export interface EntryEndpoints {
  readonly endpoints: Endpoint[];
  readonly problems: { nativeId: string; reason: string }[];
}

export const entryNativeId = (we: KWorkloadEntryRead): string => `workloadentry/${we.metadata?.namespace ?? ''}/${we.metadata?.name ?? ''}`;

/** The labels Istio matches selectors against: spec.labels overlaid by metadata.labels (metadata wins). */
export function entryLabels(we: KWorkloadEntryRead): Record<string, string> {
  const out: Record<string, string> = {};
  for (const labels of [we.spec?.labels, we.metadata?.labels] as unknown[]) {
    if (typeof labels !== 'object' || labels === null) continue;
    for (const [k, v] of Object.entries(labels)) if (typeof v === 'string') out[k] = v;
  }
  return out;
}

/**
 * Whether a Service's selector picks the entry. An empty or absent selector selects nothing (a
 * selectorless Service has hand-made endpoints), and an entry without labels is never selected,
 * as in Istio.
 */
export function selectsEntry(selector: Readonly<Record<string, string>> | undefined, labels: Readonly<Record<string, string>>): boolean {
  const wanted = Object.entries(selector ?? {});
  if (wanted.length === 0 || Object.keys(labels).length === 0) return false;
  return wanted.every(([k, v]) => labels[k] === v);
}

/**
 * Istio's rule: health counts only when the entry opts in with `proxy.istio.io/health-checks-enabled`
 * (istiod sets it for a WorkloadGroup with a readinessProbe); then it is healthy only once the
 * `Healthy` condition says True, so a fresh entry is not ready until its first probe passes.
 * Without the annotation the entry is always healthy, whatever a condition says.
 */
export function entryHealthy(we: KWorkloadEntryRead): boolean {
  const flag = we.metadata?.annotations?.[ISTIO_ENTRY.healthChecks];
  if (flag === undefined || !['true', '1', 't', 'TRUE', 'True', 'T'].includes(flag)) return true;
  const condition = (we.status?.conditions ?? []).find((c) => c.type === ISTIO_ENTRY.healthy);
  return condition?.status === 'True';
}

/**
 * The entry's port per exported Service port, as Istio's Kubernetes registry picks it: a numeric
 * targetPort is the default and the entry's `ports` under the Service port's name overrides it;
 * a named targetPort must be in the entry's `ports` under that name, or the entry does not serve
 * that Service port. UDP ports are not served to WorkloadEntries.
 */
export function entryPorts(servicePorts: readonly EntryServicePort[], we: KWorkloadEntryRead): Record<string, number> {
  const raw: unknown = we.spec?.ports;
  const own = (name: string | undefined): number | undefined => {
    if (name === undefined || name === '' || typeof raw !== 'object' || raw === null || !Object.hasOwn(raw, name)) return undefined;
    const port: unknown = (raw as Record<string, unknown>)[name];
    return typeof port === 'number' && Number.isInteger(port) && port > 0 ? port : undefined;
  };
  const out: Record<string, number> = {};
  for (const p of servicePorts) {
    if (p.protocol === 'UDP') continue;
    const target = p.targetPort;
    if (typeof target === 'string' && target !== '') {
      const named = own(target);
      if (named !== undefined) out[p.exportName] = named;
      continue;
    }
    out[p.exportName] = own(p.given) ?? (typeof target === 'number' && target > 0 ? target : p.port);
  }
  return out;
}

/** `region/zone/subzone`: the zone is what pods carry (topology.kubernetes.io/zone), so it is the zone part. */
function zoneOf(locality: string | undefined): string | undefined {
  const zone = locality?.split('/')[1];
  return zone === undefined || zone === '' ? undefined : zone;
}

/**
 * Istio's scale: unset (0) counts as 1, like every pod, so weight N is N pods' worth. The model's
 * neutral is 100, so N becomes N × 100 (capped at the model's maximum, 100 pods' worth); taking
 * N as is would give an entry of weight 2 a fiftieth of a pod's share in the VM registries.
 */
function weightOf(raw: unknown): number {
  if (typeof raw !== 'number' || !Number.isFinite(raw) || raw <= 0) return DEFAULT_WEIGHT;
  return Math.min(Math.round(raw * DEFAULT_WEIGHT), MAX_WEIGHT);
}

/**
 * The endpoints the Service gets from the entries of its namespace. Entries carrying any
 * Isthmus marker are skipped (DESIGN §4: the sink's Istio mode writes them, and they select the
 * same labels). Addresses already taken (by a pod, or an earlier entry in name order) are
 * refused with a reason rather than exported twice.
 */
export function workloadEntryEndpoints(
  registry: RegistryId,
  service: KService,
  servicePorts: readonly EntryServicePort[],
  entries: readonly KWorkloadEntryRead[],
  taken: ReadonlySet<string>,
): EntryEndpoints {
  const out: EntryEndpoints = { endpoints: [], problems: [] };
  // Istio gives a headless Service no WorkloadEntry instances.
  if (service.spec?.clusterIP === 'None') return out;
  const namespace = service.metadata?.namespace ?? '';
  const used = new Set(taken);
  const sorted = [...entries].sort((a, b) => (text(a.metadata?.name) ?? '').localeCompare(text(b.metadata?.name) ?? ''));
  for (const we of sorted) {
    if (we.metadata?.namespace !== namespace || isIsthmusObject(we.metadata)) continue;
    const nativeId = entryNativeId(we);
    try {
      if (!selectsEntry(service.spec?.selector, entryLabels(we))) continue;
      const result = entryEndpoint(registry, we, servicePorts, used);
      if (typeof result === 'string') out.problems.push({ nativeId, reason: result });
      else {
        used.add(result.address);
        out.endpoints.push(result);
      }
    } catch (err) {
      // A shape the CRD schema should have refused: this entry is out, the Service still flows.
      out.problems.push({ nativeId, reason: `cannot convert the WorkloadEntry: ${err instanceof Error ? err.message : String(err)}` });
    }
  }
  return out;
}

/** One selected entry as an endpoint, or why it is not exported. */
function entryEndpoint(registry: RegistryId, we: KWorkloadEntryRead, servicePorts: readonly EntryServicePort[], used: ReadonlySet<string>): Endpoint | string {
  const address = text(we.spec?.address) ?? '';
  if (address === '') return 'WorkloadEntry has no address (reached only through a network gateway): not exported';
  if (isIP(address) === 0) return `WorkloadEntry address ${JSON.stringify(address)} is not an IP (a DNS name or socket): not exported`;
  if (used.has(address)) return `address ${address} is already exported for this Service by another endpoint`;
  const ports = entryPorts(servicePorts, we);
  if (Object.keys(ports).length === 0) return 'no Service port resolves on this WorkloadEntry (named targetPort missing from its ports)';
  const spec = we.spec ?? {};
  const locality = text(spec.locality);
  const zone = zoneOf(locality);
  const metadata: Record<string, string> = { [ENTRY_META.side]: 'vm', [ENTRY_META.entry]: text(we.metadata?.name) ?? '' };
  const extra = [[ENTRY_META.group, we.metadata?.annotations?.[ISTIO_ENTRY.autoRegistrationGroup]], [ENTRY_META.locality, locality], [ENTRY_META.network, spec.network], [ENTRY_META.serviceAccount, spec.serviceAccount]] as const;
  for (const [key, value] of extra) {
    const v = text(value);
    if (v !== undefined && v !== '') metadata[key] = v;
  }
  return {
    address,
    ports,
    ...conditionsOf(entryHealthy(we) ? 'ready' : 'down'),
    weight: weightOf(spec.weight),
    ...(zone === undefined ? {} : { zone }),
    metadata,
    origin: { registry, nativeId: entryNativeId(we) },
  };
}

/** JSON from the API server may hold any shape where a string belongs; anything else counts as absent. */
function text(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

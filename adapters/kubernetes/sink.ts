import { BridgeError } from '../../bridge/errors/index.ts';
import type { Endpoint, RegistryId, ServiceRef, ServiceSnapshot } from '../../bridge/model/index.ts';
import { refKey, refProblem } from '../../bridge/model/index.ts';
import type { EndpointField, PlanHints, QuarantinedRecord } from '../../bridge/ports/index.ts';
import { PlannedSink } from '../../bridge/ports/index.ts';
import type { KubeClient } from './client.ts';
import { observedWithIstio, planWithIstio } from './istio-mode.ts';
import { podSubsetSelector } from './istio-pods.ts';
import { executeIstio, istioModeFor, ownedIstioObjects, readIstio } from './istio-sink.ts';
import { K8S } from './markers.ts';
import { OwnedCache } from './owned-cache.ts';
import type { KubernetesOptions } from './options.ts';
import { type KubeSinkPlan, type KubeSinkState, observedOf, ownerOf, planImport } from './sink-plan.ts';
import type { SliceOwner } from './slices.ts';
import type { KEndpointSlice, KService, ObjectMeta } from './types.ts';

/**
 * What an EndpointSlice stores per endpoint besides address and ports. `origin` round-trips
 * because slices are grouped per origin registry (label) with the origin ids in an annotation;
 * weight, protocol and metadata have no place in a slice and are not claimed.
 */
const FIELDS: readonly EndpointField[] = ['ready', 'serving', 'terminating', 'zone', 'node', 'origin'];

/**
 * Other registries → Kubernetes: a selectorless Service plus this bridge's EndpointSlices per
 * imported service, or only the slices when joining a Service someone else owns (mixed mode).
 * Per pass: `read` (Service + our slices, from the watched view when usable), `plan` (pure, in
 * `sink-plan.ts`), `execute` (only objects carrying this bridge's id are changed).
 */
export class KubernetesSink extends PlannedSink<KubeSinkState, KubeSinkPlan> {
  readonly id: RegistryId;
  readonly fields = FIELDS;
  readonly #client: KubeClient;
  readonly #o: KubernetesOptions;
  readonly #bridgeId: string;
  /** Target `ns/name` → the ref that wrote it from this process (two refs, one name = collision). */
  readonly #holders = new Map<string, string>();
  readonly #refused = new Map<string, QuarantinedRecord[]>();
  readonly #cache: OwnedCache;

  constructor(id: RegistryId, client: KubeClient, options: KubernetesOptions, bridgeId: string) {
    super();
    this.id = id;
    this.#client = client;
    this.#o = options;
    this.#bridgeId = bridgeId;
    const scopes = options.namespaces.length === 0 ? [undefined] : options.namespaces;
    this.#cache = new OwnedCache(client, scopes, bridgeId, options.resyncBackoffMs);
  }

  /** Starts watching what this bridge owns; until synced, every read goes to the API. */
  start(signal: AbortSignal): Promise<void> {
    this.#cache.start(signal);
    return Promise.resolve();
  }

  /** Endpoints refused by the last executed plan of each service (port name not a DNS label, non-IP). */
  quarantined(): readonly QuarantinedRecord[] {
    return [...this.#refused.values()].flat();
  }

  /**
   * Our Service (or the native one we would join) and our slices: from the watched view when it
   * is healthy, else from the API. A Service not in the view may still exist (native, mixed mode),
   * so that one read always goes to the API.
   */
  async read(ref: ServiceRef): Promise<KubeSinkState> {
    const owner = ownerOf(ref, this.#bridgeId, this.#o.namespaces);
    let svc: KService | undefined;
    let all: KEndpointSlice[];
    if (this.#cache.usable()) {
      all = this.#cache.slices(owner.namespace, owner.service);
      svc = this.#cache.service(owner.namespace, owner.service) ?? (await this.#client.getService(owner.namespace, owner.service));
    } else {
      const selector = `${K8S.serviceName}=${owner.service},${K8S.managedBy}=${this.#bridgeId}`;
      const [s, list] = await Promise.all([this.#client.getService(owner.namespace, owner.service), this.#client.list('endpointslices', owner.namespace, selector)]);
      svc = s;
      all = list.items;
    }
    const mine = (s: KEndpointSlice) => s.metadata?.annotations?.[K8S.originalName] === owner.originalName;
    const base = { ref, owner, svc, slices: all.filter(mine), foreign: all.filter((s) => !mine(s)) };
    if (!this.#o.sink.istio.enabled) return { ...base, observed: observedOf(base, this.#bridgeId, this.id) };
    const istio = this.#o.sink.istio;
    // Pods are listed only where a VirtualService may be written or verified: this ref in the Istio mode, a selector Service.
    const podSelector = istioModeFor(ref, istio) ? podSubsetSelector(svc, this.#bridgeId, istio.podSubsetLabels) : undefined;
    const withIstio = { ...base, istio: await readIstio(this.#client, owner, this.#bridgeId, istio, podSelector) };
    return { ...withIstio, observed: observedWithIstio(observedOf(base, this.#bridgeId, this.id), withIstio, this.#bridgeId, this.id) };
  }

  plan(state: KubeSinkState, desired: ServiceSnapshot | undefined, hints?: PlanHints): KubeSinkPlan {
    const holder = this.#holders.get(targetKey(state.owner));
    const heldBy = holder === undefined || holder === refKey(state.ref) ? undefined : holder;
    const ctx = { bridgeId: this.#bridgeId, options: this.#o.sink, heldBy };
    const istio = this.#o.sink.istio;
    if (!istio.enabled) return planImport(state, desired, ctx);
    return planWithIstio(state, desired, { ...ctx, sinkId: this.id, istio, istioMode: istioModeFor(state.ref, istio), split: hints?.split });
  }

  /** Istio-mode services get the split as a hint and route by it in a VirtualService. */
  enforcesSplit(ref: ServiceRef): boolean {
    return istioModeFor(ref, this.#o.sink.istio);
  }

  async execute(plan: KubeSinkPlan): Promise<void> {
    const key = refKey(plan.ref);
    if (!plan.removal) this.#claim(plan);
    if (plan.service?.verb === 'create') {
      await this.#ensureNamespace(plan.owner.namespace);
      this.#cache.rememberService(await this.#client.createService(plan.service.body));
    } else if (plan.service?.verb === 'update') {
      this.#cache.rememberService(await this.#client.replaceService(plan.service.body));
    }
    // Creates and updates before deletes: an endpoint moving between slices is never missing.
    await Promise.all(plan.createSlices.map(async (s) => { this.#cache.rememberSlice(await this.#client.createSlice(s)); }));
    await Promise.all(plan.updateSlices.map(async (s) => { this.#cache.rememberSlice(await this.#client.replaceSlice(s)); }));
    if (plan.istio !== undefined && plan.istio.upserts.some((w) => w.verb === 'create')) await this.#ensureNamespace(plan.owner.namespace);
    // Istio objects of a service switching modes go after the other mode's creates, before its
    // deletes: the instances are always reachable one way or the other.
    if (plan.istio !== undefined) await executeIstio(this.#client, { ...plan.istio, deletes: [] });
    await Promise.all(plan.deleteSlices.map((s) => this.#deleteSlice(s)));
    if (plan.istio !== undefined) await executeIstio(this.#client, { ...plan.istio, upserts: [] });
    if (plan.deleteService !== undefined) {
      await this.#client.deleteService(plan.deleteService);
      this.#cache.forgetService(plan.deleteService);
    }
    if (plan.removal) {
      this.#refused.delete(key);
      if (this.#holders.get(targetKey(plan.owner)) === key) this.#holders.delete(targetKey(plan.owner));
    } else {
      this.#noteRefused(plan.ref, plan.refused);
    }
  }

  async ownedRefs(): Promise<readonly ServiceRef[]> {
    const selector = `${K8S.managedBy}=${this.#bridgeId}`;
    const scopes = this.#o.namespaces.length === 0 ? [undefined] : this.#o.namespaces;
    const refs = new Map<string, ServiceRef>();
    const lists: { metadata?: ObjectMeta }[][] = this.#cache.usable()
      ? [[...this.#cache.allServices(), ...this.#cache.allSlices()]]
      : await Promise.all(scopes.map(async (ns) => {
          const [services, slices] = await Promise.all([this.#client.list('services', ns, selector), this.#client.list('endpointslices', ns, selector)]);
          return [...services.items, ...slices.items];
        }));
    if (this.#o.sink.istio.enabled) lists.push((await ownedIstioObjects(this.#client, scopes, this.#bridgeId)).map((metadata) => ({ metadata })));
    for (const objects of lists) {
      for (const obj of objects) {
        const name = obj.metadata?.annotations?.[K8S.originalName];
        const namespace = obj.metadata?.annotations?.[K8S.originalNamespace] ?? obj.metadata?.namespace;
        if (name === undefined || namespace === undefined) continue;
        // A hand-edited annotation must not hand the engine a ref it cannot carry.
        const ref = { namespace, name };
        if (refProblem(ref) === undefined) refs.set(refKey(ref), ref);
      }
    }
    return [...refs.values()];
  }

  async #deleteSlice(slice: KEndpointSlice): Promise<void> {
    await this.#client.deleteSlice(slice.metadata ?? {});
    this.#cache.forgetSlice(slice.metadata ?? {});
  }

  /**
   * Takes the target name for this ref before the first write. Plan already checked it; this
   * repeats the check synchronously because two refs may have planned before either executed.
   */
  #claim(plan: KubeSinkPlan): void {
    const target = targetKey(plan.owner);
    const holder = this.#holders.get(target);
    const key = refKey(plan.ref);
    if (holder !== undefined && holder !== key) {
      throw new BridgeError('ISTHMUS_NAME_COLLISION', `kubernetes: ${key} and ${holder} both map to Service ${target}`, { terminal: true, details: { ref: key, heldBy: holder } });
    }
    this.#holders.set(target, key);
  }

  async #ensureNamespace(ns: string): Promise<void> {
    if (!this.#o.sink.createNamespaces) return; // the create call reports a missing namespace itself
    if (await this.#client.namespaceExists(ns)) return;
    await this.#client.createNamespace(ns, { [K8S.managedBy]: this.#bridgeId });
  }

  #noteRefused(ref: ServiceRef, refused: readonly { endpoint: Endpoint; reason: string }[]): void {
    if (refused.length === 0) {
      this.#refused.delete(refKey(ref));
      return;
    }
    const now = Date.now();
    this.#refused.set(refKey(ref), refused.map((r) => ({ registry: r.endpoint.origin.registry, nativeId: r.endpoint.origin.nativeId, ref, reason: r.reason, since: now })));
  }
}

function targetKey(owner: SliceOwner): string {
  return `${owner.namespace}/${owner.service}`;
}

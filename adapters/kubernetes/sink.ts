import { BridgeError } from '../../bridge/errors/index.ts';
import type { Endpoint, RegistryId, ServiceRef, ServiceSnapshot } from '../../bridge/model/index.ts';
import { endpointKey, NameTable, refKey, toDns1035 } from '../../bridge/model/index.ts';
import type { EndpointField, QuarantinedRecord, Sink } from '../../bridge/ports/index.ts';
import type { KubeClient } from './client.ts';
import { isOwnedBy, K8S } from './markers.ts';
import { OwnedCache } from './owned-cache.ts';
import type { KubernetesOptions } from './options.ts';
import { importedPorts, mayJoin, renderService, serviceFingerprint, servicePorts } from './service-shape.ts';
import { planSlices, type SliceOwner, sliceEndpoints } from './slices.ts';
import type { KEndpointSlice, KService } from './types.ts';

/**
 * What an EndpointSlice stores per endpoint besides address and ports. `origin` round-trips
 * because slices are grouped per origin registry (label) with the origin ids in an annotation;
 * weight, protocol and metadata have no place in a slice and are not claimed.
 */
const FIELDS: readonly EndpointField[] = ['ready', 'serving', 'terminating', 'zone', 'node', 'origin'];

/**
 * Other registries → Kubernetes: a selectorless Service plus this bridge's EndpointSlices per
 * imported service, or only the slices when joining a Service someone else owns (mixed mode).
 * Writes only what differs from what is stored, and only objects carrying this bridge's id.
 */
export class KubernetesSink implements Sink {
  readonly id: RegistryId;
  readonly fields = FIELDS;
  readonly #client: KubeClient;
  readonly #o: KubernetesOptions;
  readonly #bridgeId: string;
  readonly #names = new NameTable();
  readonly #refused = new Map<string, QuarantinedRecord[]>();
  readonly #cache: OwnedCache;

  constructor(id: RegistryId, client: KubeClient, options: KubernetesOptions, bridgeId: string) {
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

  /** Endpoints refused by the last apply of each service (bad IP, port name not a DNS label). */
  quarantined(): readonly QuarantinedRecord[] {
    return [...this.#refused.values()].flat();
  }

  async observe(ref: ServiceRef): Promise<ServiceSnapshot | undefined> {
    const owner = this.#owner(ref);
    const { svc, slices } = await this.#read(owner);
    const ours = svc !== undefined && this.#ownsService(svc, owner);
    if (!ours && slices.length === 0) return undefined;
    const endpoints = slices.flatMap(sliceEndpoints).sort((a, b) => endpointKey(a).localeCompare(endpointKey(b)));
    return { ref, ports: svc === undefined ? [] : servicePorts(svc), endpoints, metadata: {}, origin: this.id };
  }

  async ownedRefs(): Promise<readonly ServiceRef[]> {
    const selector = `${K8S.managedBy}=${this.#bridgeId}`;
    const scopes = this.#o.namespaces.length === 0 ? [undefined] : this.#o.namespaces;
    const refs = new Map<string, ServiceRef>();
    const lists = this.#cache.usable()
      ? [[...this.#cache.allServices(), ...this.#cache.allSlices()]]
      : await Promise.all(scopes.map(async (ns) => {
          const [services, slices] = await Promise.all([this.#client.list('services', ns, selector), this.#client.list('endpointslices', ns, selector)]);
          return [...services.items, ...slices.items];
        }));
    for (const objects of lists) {
      for (const obj of objects) {
        const name = obj.metadata?.annotations?.[K8S.originalName];
        const namespace = obj.metadata?.annotations?.[K8S.originalNamespace] ?? obj.metadata?.namespace;
        if (name === undefined || namespace === undefined) continue;
        refs.set(`${namespace}/${name}`, { namespace, name });
      }
    }
    return [...refs.values()];
  }

  async apply(desired: ServiceSnapshot): Promise<void> {
    const owner = this.#owner(desired.ref);
    const { svc, slices } = await this.#read(owner);
    if (svc === undefined) {
      await this.#ensureNamespace(owner.namespace);
      this.#cache.rememberService(await this.#client.createService(renderService(owner, desired.origin, importedPorts(desired), this.#o.sink.serviceType)));
    } else if (isOwnedBy(svc.metadata, this.#bridgeId)) {
      if (!this.#ownsService(svc, owner)) throw this.#collision(owner, svc);
      const next = renderService(owner, desired.origin, importedPorts(desired), this.#o.sink.serviceType, svc);
      if (serviceFingerprint(next) !== serviceFingerprint(svc)) this.#cache.rememberService(await this.#client.replaceService(next));
    } else if (!mayJoin(svc, this.#o.sink.mixed)) {
      throw this.#collision(owner, svc);
    }
    const plan = planSlices(owner, desired.endpoints, slices, this.#o.sink.maxEndpointsPerSlice);
    this.#noteRefused(desired.ref, plan.refused);
    // Creates and updates before deletes: an endpoint moving between slices is never missing.
    await Promise.all(plan.create.map(async (s) => { this.#cache.rememberSlice(await this.#client.createSlice(s)); }));
    await Promise.all(plan.update.map(async (s) => { this.#cache.rememberSlice(await this.#client.replaceSlice(s)); }));
    await Promise.all(plan.delete.map((s) => this.#deleteSlice(s)));
  }

  async remove(ref: ServiceRef): Promise<void> {
    const owner = this.#owner(ref);
    const { svc, slices } = await this.#read(owner);
    await Promise.all(slices.map((s) => this.#deleteSlice(s)));
    if (svc !== undefined && this.#ownsService(svc, owner)) {
      await this.#client.deleteService(svc.metadata ?? {});
      this.#cache.forgetService(svc.metadata ?? {});
    }
    this.#refused.delete(refKey(ref));
    this.#names.release(refKey(ref), () => `${owner.namespace}/${owner.service}`);
  }

  /**
   * Our Service (or the native one we would join) and our slices: from the watched view when it
   * is healthy, else from the API. A Service not in the view may still exist (native, mixed mode),
   * so that one read always goes to the API.
   */
  async #read(owner: SliceOwner): Promise<{ svc: KService | undefined; slices: KEndpointSlice[] }> {
    if (this.#cache.usable()) {
      const slices = this.#cache.slices(owner.namespace, owner.service).filter((s) => s.metadata?.annotations?.[K8S.originalName] === owner.originalName);
      const svc = this.#cache.service(owner.namespace, owner.service) ?? (await this.#client.getService(owner.namespace, owner.service));
      return { svc, slices };
    }
    const [svc, slices] = await Promise.all([this.#client.getService(owner.namespace, owner.service), this.#ownedSlices(owner)]);
    return { svc, slices };
  }

  async #deleteSlice(slice: KEndpointSlice): Promise<void> {
    await this.#client.deleteSlice(slice.metadata ?? {});
    this.#cache.forgetSlice(slice.metadata ?? {});
  }

  #owner(ref: ServiceRef): SliceOwner {
    const namespace = toDns1035(ref.namespace);
    if (this.#o.namespaces.length > 0 && !this.#o.namespaces.includes(namespace)) {
      throw new BridgeError('ISTHMUS_REGISTRY_REJECTED', `kubernetes: namespace ${namespace} (for ${refKey(ref)}) is outside the configured namespaces`, { terminal: true });
    }
    const owner = { bridgeId: this.#bridgeId, namespace, service: toDns1035(ref.name), originalName: ref.name, originalNamespace: ref.namespace };
    const claim = this.#names.claim(refKey(ref), () => `${owner.namespace}/${owner.service}`);
    if (!claim.ok) {
      throw new BridgeError('ISTHMUS_NAME_COLLISION', `kubernetes: ${refKey(ref)} and ${claim.heldBy} both map to Service ${claim.name}`, { terminal: true, details: { ref: refKey(ref), heldBy: claim.heldBy } });
    }
    return owner;
  }

  /** Our Service for exactly this original name (a hash collision or rename is not ours). */
  #ownsService(svc: KService, owner: SliceOwner): boolean {
    return isOwnedBy(svc.metadata, this.#bridgeId) && svc.metadata?.annotations?.[K8S.originalName] === owner.originalName;
  }

  async #ownedSlices(owner: SliceOwner): Promise<KEndpointSlice[]> {
    const selector = `${K8S.serviceName}=${owner.service},${K8S.managedBy}=${this.#bridgeId}`;
    const list = await this.#client.list('endpointslices', owner.namespace, selector);
    return list.items.filter((s) => s.metadata?.annotations?.[K8S.originalName] === owner.originalName);
  }

  async #ensureNamespace(ns: string): Promise<void> {
    if (!this.#o.sink.createNamespaces) return; // the create call reports a missing namespace itself
    if (await this.#client.namespaceExists(ns)) return;
    await this.#client.createNamespace(ns, { [K8S.managedBy]: this.#bridgeId });
  }

  #collision(owner: SliceOwner, svc: KService): BridgeError {
    const holder = svc.metadata?.annotations?.[K8S.originalName] ?? 'a Service not managed by this bridge';
    const hint = isOwnedBy(svc.metadata, this.#bridgeId) ? '' : ` (mixed mode is ${this.#o.sink.mixed}; annotate it ${K8S.acceptImports}: "true" to add imported endpoints)`;
    return new BridgeError('ISTHMUS_NAME_COLLISION', `kubernetes: Service ${owner.namespace}/${owner.service} for ${owner.originalName} is held by ${holder}${hint}`, {
      terminal: true,
      details: { namespace: owner.namespace, service: owner.service, heldBy: holder },
    });
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

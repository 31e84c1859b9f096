import type { RegistryId, ServiceRef, ServiceSnapshot } from '../../bridge/model/index.ts';
import type { AdapterContext, QuarantinedRecord, Source, SourceHealth } from '../../bridge/ports/index.ts';
import type { KubeClient, Resource } from './client.ts';
import { serviceToSnapshot } from './convert.ts';
import { K8S } from './markers.ts';
import type { KubernetesOptions } from './options.ts';
import { type ListWatchApi, Reflector } from './reflector.ts';
import type { KEndpointSlice, KNode, KService, ObjectMeta } from './types.ts';

type EngineLogger = AdapterContext['logger'];

/**
 * Kubernetes → other registries: Services and EndpointSlices (and Nodes for the nodePort mode)
 * listed and watched per namespace (or cluster-wide), joined into one snapshot per Service.
 * Reflectors keep their caches while the API server is away; health says so.
 */
export class KubernetesSource implements Source {
  readonly id: RegistryId;
  readonly #client: KubeClient;
  readonly #o: KubernetesOptions;
  readonly #log: EngineLogger | undefined;
  readonly #reflectors: Reflector<{ metadata?: ObjectMeta }>[] = [];
  readonly #services = new Map<string, KService>();
  readonly #slicesBySvc = new Map<string, Map<string, KEndpointSlice>>();
  readonly #nodes = new Map<string, KNode>();
  readonly #snapshots = new Map<string, ServiceSnapshot>();
  readonly #fingerprints = new Map<string, string>();
  readonly #problems = new Map<string, QuarantinedRecord[]>();
  readonly #listeners = new Set<(ref: ServiceRef) => void>();

  constructor(id: RegistryId, client: KubeClient, options: KubernetesOptions, logger?: EngineLogger) {
    this.id = id;
    this.#client = client;
    this.#o = options;
    this.#log = logger;
  }

  start(signal: AbortSignal): Promise<void> {
    const scopes = this.#o.namespaces.length === 0 ? [undefined] : this.#o.namespaces;
    const resources: Resource[] = ['services', 'endpointslices'];
    const watchNodes = this.#o.source.watchNodes || this.#o.source.addressMode === 'nodePort';
    const pairs: [Resource, string | undefined][] = scopes.flatMap((ns) => resources.map((r): [Resource, string | undefined] => [r, ns]));
    if (watchNodes) pairs.push(['nodes', undefined]);
    for (const [resource, ns] of pairs) {
      const reflector = new Reflector<{ metadata?: ObjectMeta }>(this.#api(resource, ns), {
        minBackoffMs: this.#o.resyncBackoffMs.min,
        maxBackoffMs: this.#o.resyncBackoffMs.max,
        onChange: (_key, next, prev) => { this.#onObject(resource, next, prev); },
        onState: () => { this.#log?.info({ registry: this.id, resource, namespace: ns ?? '*', reachable: reflector.reachable, err: reflector.lastError }, 'kubernetes watch state changed'); },
      });
      this.#reflectors.push(reflector);
      reflector.start(signal);
    }
    return Promise.resolve();
  }

  hasSynced(): boolean {
    return this.#reflectors.length > 0 && this.#reflectors.every((r) => r.synced);
  }

  health(): SourceHealth {
    const down = this.#reflectors.find((r) => !r.reachable);
    const lastContact = Math.min(...this.#reflectors.map((r) => r.lastContact));
    const base = { reachable: this.#reflectors.length > 0 && down === undefined, lastContact: Number.isFinite(lastContact) ? lastContact : 0 };
    const err = down?.lastError;
    return err === undefined ? base : { ...base, lastError: err };
  }

  keys(): Iterable<ServiceRef> {
    return [...this.#snapshots.values()].map((s) => s.ref);
  }

  get(ref: ServiceRef): ServiceSnapshot | undefined {
    return this.#snapshots.get(`${ref.namespace}/${ref.name}`);
  }

  onChange(listener: (ref: ServiceRef) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  quarantined(): readonly QuarantinedRecord[] {
    return [...this.#problems.values()].flat();
  }

  /** Test hook: closes every open watch, as a dropped connection would. */
  dropWatches(): void {
    for (const r of this.#reflectors) r.dropWatch();
  }

  #api(resource: Resource, ns: string | undefined): ListWatchApi<{ metadata?: ObjectMeta }> {
    return {
      list: () => (resource === 'nodes' ? this.#client.list('nodes', undefined) : resource === 'services' ? this.#client.list('services', ns) : this.#client.list('endpointslices', ns)),
      watch: (rv, onEvent, done) => this.#client.watch(resource, ns, rv, onEvent, done),
    };
  }

  #onObject(resource: Resource, next: { metadata?: ObjectMeta } | undefined, prev: { metadata?: ObjectMeta } | undefined): void {
    const meta = next?.metadata ?? prev?.metadata;
    const ns = meta?.namespace ?? '';
    if (resource === 'nodes') {
      const name = meta?.name ?? '';
      if (next === undefined) this.#nodes.delete(name);
      else this.#nodes.set(name, next);
      for (const key of [...this.#services.keys()]) this.#recompute(key);
      return;
    }
    if (resource === 'services') {
      const key = `${ns}/${meta?.name ?? ''}`;
      if (next === undefined) this.#services.delete(key);
      else this.#services.set(key, next);
      this.#recompute(key);
      return;
    }
    const sliceName = meta?.name ?? '';
    const owners = new Set<string>();
    for (const obj of [prev, next]) {
      const svc = obj?.metadata?.labels?.[K8S.serviceName];
      if (svc !== undefined) owners.add(`${ns}/${svc}`);
    }
    for (const key of owners) this.#slicesBySvc.get(key)?.delete(sliceName);
    const svc = next?.metadata?.labels?.[K8S.serviceName];
    if (next !== undefined && svc !== undefined) {
      const key = `${ns}/${svc}`;
      let slices = this.#slicesBySvc.get(key);
      if (slices === undefined) {
        slices = new Map();
        this.#slicesBySvc.set(key, slices);
      }
      slices.set(sliceName, next as KEndpointSlice);
    }
    for (const key of owners) {
      if (this.#slicesBySvc.get(key)?.size === 0) this.#slicesBySvc.delete(key);
      this.#recompute(key);
    }
  }

  #recompute(key: string): void {
    const service = this.#services.get(key);
    const result = service === undefined
      ? { problems: [] }
      : serviceToSnapshot({
          registry: this.id,
          service,
          slices: [...(this.#slicesBySvc.get(key)?.values() ?? [])],
          options: this.#o.source,
          node: (name) => this.#nodes.get(name),
        });
    const slash = key.indexOf('/');
    const ref = { namespace: key.slice(0, slash), name: key.slice(slash + 1) };
    if (result.problems.length === 0) this.#problems.delete(key);
    else this.#problems.set(key, result.problems.map((p) => ({ registry: this.id, nativeId: p.nativeId, ref, reason: p.reason, since: this.#problems.get(key)?.[0]?.since ?? Date.now() })));
    const snap = 'snapshot' in result ? result.snapshot : undefined;
    const fingerprint = snap === undefined ? undefined : JSON.stringify({ ...snap, revision: undefined });
    if (fingerprint === this.#fingerprints.get(key)) {
      if (snap !== undefined) this.#snapshots.set(key, snap);
      return;
    }
    if (snap === undefined) {
      this.#snapshots.delete(key);
      this.#fingerprints.delete(key);
    } else {
      this.#snapshots.set(key, snap);
      this.#fingerprints.set(key, fingerprint ?? '');
    }
    for (const l of this.#listeners) l(ref);
  }
}

import type { RegistryId, ServiceRef, ServiceSnapshot } from '../../bridge/model/index.ts';
import type { AdapterContext, QuarantinedRecord, Source, SourceHealth, SourceNotice } from '../../bridge/ports/index.ts';
import { SourceCache } from '../shared/source-cache.ts';
import type { KubeClient, Resource } from './client.ts';
import { serviceToSnapshot } from './convert.ts';
import { K8S } from './markers.ts';
import { MtlsPreflight } from './mtls-preflight.ts';
import type { KubernetesOptions } from './options.ts';
import { type KPeerAuthentication, strictFor } from './peer-auth.ts';
import { type ListWatchApi, Reflector } from './reflector.ts';
import type { KEndpointSlice, KNode, KService, ObjectMeta } from './types.ts';
import { entryLabels, type KWorkloadEntryRead, selectsEntry } from './workload-entries.ts';
import { WorkloadEntryWatch } from './workload-entry-watch.ts';

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
  /** What to list and watch: one reflector, and one health channel, per resource and scope. */
  readonly #watches: readonly (readonly [Resource, string | undefined])[];
  /** One part per Service (`namespace/name`), recomputed whenever it or its slices change. */
  readonly #cache: SourceCache;
  readonly #services = new Map<string, KService>();
  readonly #slicesBySvc = new Map<string, Map<string, KEndpointSlice>>();
  readonly #nodes = new Map<string, KNode>();
  readonly #mtls: MtlsPreflight | undefined;
  /** Istio WorkloadEntries (VMs of the mesh) added to the Services selecting them. */
  readonly #entries: WorkloadEntryWatch | undefined;
  /**
   * Services to recompute after entry changes, flushed once per microtask: a list delivers every
   * entry synchronously, and recomputing a Service per entry would be quadratic (each pass
   * converts all entries of the namespace). Timers (the sync gate, the engine) run after it.
   */
  readonly #entryDirty = new Set<string>();
  #entryFlushQueued = false;
  /**
   * STRICT findings per exported Service, judged again when the Service or its slices change;
   * a policy change (rare, but a list delivers many at once) marks all of them for the next
   * health(), so the engine's frequent health() calls cost one lookup when nothing changed.
   */
  readonly #strict = new Map<string, SourceNotice>();
  #policies: readonly KPeerAuthentication[] = [];
  #policiesChanged = true;
  #notices: SourceNotice[] | undefined;

  constructor(id: RegistryId, client: KubeClient, options: KubernetesOptions, logger?: EngineLogger) {
    this.id = id;
    this.#client = client;
    this.#o = options;
    this.#log = logger;
    const scopes = options.namespaces.length === 0 ? [undefined] : options.namespaces;
    const resources: Resource[] = ['services', 'endpointslices'];
    const watches = scopes.flatMap((ns) => resources.map((r) => [r, ns] as const));
    if (options.source.watchNodes || options.source.addressMode === 'nodePort') watches.push(['nodes', undefined]);
    this.#watches = watches;
    this.#cache = new SourceCache(id, { pending: watches.map(([r, ns]) => channel(r, ns)), lastContact: 0 });
    const istio = options.source.istio;
    this.#mtls = istio.mtlsPreflight
      ? new MtlsPreflight(client, {
          rootNamespace: istio.rootNamespace,
          namespaces: options.namespaces,
          minBackoffMs: options.resyncBackoffMs.min,
          maxBackoffMs: options.resyncBackoffMs.max,
          onChange: () => { this.#policiesChanged = true; },
          logger,
        })
      : undefined;
    this.#entries = istio.workloadEntries
      ? new WorkloadEntryWatch(client, {
          namespaces: options.namespaces,
          minBackoffMs: options.resyncBackoffMs.min,
          maxBackoffMs: options.resyncBackoffMs.max,
          onChange: (ns, next, prev) => { this.#onEntry(ns, next, prev); },
          onNotice: () => { this.#notices = undefined; },
          logger,
        })
      : undefined;
  }

  start(signal: AbortSignal): Promise<void> {
    for (const [resource, ns] of this.#watches) {
      const reflector = new Reflector<{ metadata?: ObjectMeta }>(this.#api(resource, ns), {
        minBackoffMs: this.#o.resyncBackoffMs.min,
        maxBackoffMs: this.#o.resyncBackoffMs.max,
        onChange: (_key, next, prev) => { this.#onObject(resource, next, prev); },
        onState: () => { this.#log?.info({ registry: this.id, resource, namespace: ns ?? '*', reachable: reflector.reachable, err: reflector.lastError }, 'kubernetes watch state changed'); },
        onContact: () => {
          this.#cache.contact(channel(resource, ns));
          if (!this.#cache.hasSynced() && this.#reflectors.every((r) => r.synced)) this.#cache.markSynced();
        },
        onFailure: (message) => { this.#cache.lost(message, channel(resource, ns)); },
      });
      this.#reflectors.push(reflector);
    }
    // Started only once all exist: the first to sync must not find itself the only one.
    for (const r of this.#reflectors) r.start(signal);
    this.#mtls?.start(signal);
    this.#entries?.start(signal);
    return Promise.resolve();
  }

  hasSynced(): boolean {
    // WorkloadEntries too: a first pass without them would remove the VMs exported before a restart.
    return this.#cache.hasSynced() && (this.#entries?.settled() ?? true);
  }

  health(): SourceHealth {
    const health = this.#cache.health();
    if (this.#mtls === undefined && this.#entries === undefined) return health;
    if (this.#mtls !== undefined && this.#policiesChanged) {
      this.#policiesChanged = false;
      this.#policies = this.#mtls.policies();
      this.#notices = undefined;
      for (const key of [...this.#strict.keys(), ...this.#services.keys()]) this.#judgeMtls(key);
    }
    this.#notices ??= [...(this.#mtls?.notices() ?? []), ...(this.#entries?.notices() ?? []), ...[...this.#strict.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([, n]) => n)];
    return this.#notices.length === 0 ? health : { ...health, notices: [...(health.notices ?? []), ...this.#notices] };
  }

  /** Whether an exported Service's pods refuse plaintext on an exported port; updates #strict. */
  #judgeMtls(key: string): void {
    const svc = this.#services.get(key);
    const ref = refOf(key);
    // Only what we export: filtered-out, ExternalName and our own imported Services have no snapshot.
    const finding = svc === undefined || this.#policies.length === 0 || this.#cache.get(ref) === undefined
      ? undefined
      : strictFor({ ...ref, selector: svc.spec?.selector ?? {}, targetPorts: this.#targetPorts(key, svc) }, this.#policies, this.#o.source.istio.rootNamespace);
    if (finding === undefined) {
      if (this.#strict.delete(key)) this.#notices = undefined;
      return;
    }
    if (this.#strict.get(key)?.reason === finding.reason) return;
    this.#strict.set(key, { code: 'mtls-strict', ref, reason: finding.reason });
    this.#notices = undefined;
  }

  /** The container ports behind the Service's ports; a named targetPort is resolved by the slices. */
  #targetPorts(key: string, svc: KService): number[] {
    const slices = [...(this.#slicesBySvc.get(key)?.values() ?? [])];
    const out = new Set<number>();
    for (const p of svc.spec?.ports ?? []) {
      if (typeof p.targetPort === 'number') out.add(p.targetPort);
      else if (p.targetPort === undefined || p.targetPort === '') out.add(p.port);
      else {
        // Slices carry the resolved number under the Service port's name.
        for (const s of slices) for (const sp of s.ports ?? []) if ((sp.name ?? '') === (p.name ?? '') && sp.port !== undefined) out.add(sp.port);
      }
    }
    return [...out].sort((a, b) => a - b);
  }

  keys(): Iterable<ServiceRef> {
    return this.#cache.keys();
  }

  get(ref: ServiceRef): ServiceSnapshot | undefined {
    return this.#cache.get(ref);
  }

  onChange(listener: (ref: ServiceRef) => void): () => void {
    return this.#cache.onChange(listener);
  }

  quarantined(): readonly QuarantinedRecord[] {
    return this.#cache.quarantined();
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

  /** Recomputes the Services of the entry's namespace that select it now or selected it before. */
  #onEntry(ns: string, next: KWorkloadEntryRead | undefined, prev: KWorkloadEntryRead | undefined): void {
    const labels = [next, prev].flatMap((we) => (we === undefined ? [] : [entryLabels(we)]));
    for (const [key, svc] of this.#services) {
      if (!key.startsWith(`${ns}/`)) continue;
      if (labels.some((l) => selectsEntry(svc.spec?.selector, l))) this.#entryDirty.add(key);
    }
    if (this.#entryFlushQueued || this.#entryDirty.size === 0) return;
    this.#entryFlushQueued = true;
    queueMicrotask(() => {
      this.#entryFlushQueued = false;
      const keys = [...this.#entryDirty];
      this.#entryDirty.clear();
      for (const key of keys) this.#recompute(key);
    });
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
          ...(this.#entries === undefined ? {} : { workloadEntries: this.#entries.inNamespace(refOf(key).namespace) }),
        });
    const ref = refOf(key);
    const snap = 'snapshot' in result ? result.snapshot : undefined;
    this.#cache.replace(key, { snapshots: snap === undefined ? [] : [snap], quarantined: result.problems.map((p) => ({ ...p, ref })) });
    if (this.#mtls !== undefined && !this.#policiesChanged) this.#judgeMtls(key);
  }
}

function refOf(key: string): ServiceRef {
  const slash = key.indexOf('/');
  return { namespace: key.slice(0, slash), name: key.slice(slash + 1) };
}

function channel(resource: Resource, ns: string | undefined): string {
  return `${resource}/${ns ?? '*'}`;
}

import type { KubeClient, ListResult, Resource } from './client.ts';
import { K8S } from './markers.ts';
import { type ListWatchApi, Reflector } from './reflector.ts';
import type { KEndpointSlice, KService, ObjectMeta } from './types.ts';

/**
 * The sink's watched view of what this bridge owns (Services and EndpointSlices labelled with its
 * id), written through by the sink's own writes. With it, observe and a restart cost no API
 * reads for services in sync (measured without it: ~18 s of reads to re-check 1,000 imported
 * services on 2 cores). It is used only while every watch is synced and healthy; otherwise the
 * sink reads the API directly. Updates still carry resourceVersions, so a stale view can only
 * cause a conflict and a retry, never an overwrite.
 */
export class OwnedCache {
  readonly #services: Reflector<KService>[] = [];
  readonly #slices: Reflector<KEndpointSlice>[] = [];
  readonly #byService = new Map<string, Map<string, KEndpointSlice>>();
  readonly #client: KubeClient;
  readonly #scopes: readonly (string | undefined)[];
  readonly #selector: string;
  readonly #backoff: { min: number; max: number };

  constructor(client: KubeClient, scopes: readonly (string | undefined)[], bridgeId: string, backoff: { min: number; max: number }) {
    this.#client = client;
    this.#scopes = scopes;
    this.#selector = `${K8S.managedBy}=${bridgeId}`;
    this.#backoff = backoff;
  }

  start(signal: AbortSignal): void {
    for (const ns of this.#scopes) {
      const services = new Reflector<KService>(this.#api<KService>('services', ns), { minBackoffMs: this.#backoff.min, maxBackoffMs: this.#backoff.max, onChange: () => undefined });
      const slices = new Reflector<KEndpointSlice>(this.#api<KEndpointSlice>('endpointslices', ns), {
        minBackoffMs: this.#backoff.min,
        maxBackoffMs: this.#backoff.max,
        onChange: (_key, next, prev) => { this.#index(next, prev); },
      });
      this.#services.push(services);
      this.#slices.push(slices);
      services.start(signal);
      slices.start(signal);
    }
  }

  /** True when the view can stand in for API reads. */
  usable(): boolean {
    const all = [...this.#services, ...this.#slices];
    return all.length > 0 && all.every((r) => r.synced && r.reachable);
  }

  service(ns: string, name: string): KService | undefined {
    return this.#reflectorFor(this.#services, ns)?.get(`${ns}/${name}`);
  }

  slices(ns: string, service: string): KEndpointSlice[] {
    return [...(this.#byService.get(`${ns}/${service}`)?.values() ?? [])];
  }

  allServices(): KService[] {
    return this.#services.flatMap((r) => [...r.items()]);
  }

  allSlices(): KEndpointSlice[] {
    return this.#slices.flatMap((r) => [...r.items()]);
  }

  rememberService(obj: KService | undefined): void {
    if (obj?.metadata !== undefined) this.#reflectorFor(this.#services, obj.metadata.namespace)?.remember(obj);
  }

  forgetService(meta: ObjectMeta): void {
    this.#reflectorFor(this.#services, meta.namespace)?.forget(meta);
  }

  rememberSlice(obj: KEndpointSlice | undefined): void {
    if (obj?.metadata !== undefined) this.#reflectorFor(this.#slices, obj.metadata.namespace)?.remember(obj);
  }

  forgetSlice(meta: ObjectMeta): void {
    this.#reflectorFor(this.#slices, meta.namespace)?.forget(meta);
  }

  #reflectorFor<T extends { metadata?: ObjectMeta }>(list: Reflector<T>[], ns: string | undefined): Reflector<T> | undefined {
    if (this.#scopes.length === 1 && this.#scopes[0] === undefined) return list[0];
    const i = this.#scopes.indexOf(ns);
    return i < 0 ? undefined : list[i];
  }

  #api<T>(resource: Resource, ns: string | undefined): ListWatchApi<T> {
    return {
      // The overloads only differ in item type; T is the item type of `resource`.
      list: async () => (await this.#client.list(resource as 'services', ns, this.#selector)) as unknown as ListResult<T>,
      watch: (rv, onEvent, done) => this.#client.watch(resource, ns, rv, onEvent, done, this.#selector),
    };
  }

  #index(next: KEndpointSlice | undefined, prev: KEndpointSlice | undefined): void {
    for (const obj of [prev, next]) {
      const svc = obj?.metadata?.labels?.[K8S.serviceName];
      if (svc !== undefined) this.#byService.get(`${obj?.metadata?.namespace ?? ''}/${svc}`)?.delete(obj?.metadata?.name ?? '');
    }
    const svc = next?.metadata?.labels?.[K8S.serviceName];
    if (next === undefined || svc === undefined) return;
    const key = `${next.metadata?.namespace ?? ''}/${svc}`;
    let map = this.#byService.get(key);
    if (map === undefined) {
      map = new Map();
      this.#byService.set(key, map);
    }
    map.set(next.metadata?.name ?? '', next);
  }
}

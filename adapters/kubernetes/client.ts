// The API calls the adapter makes, over our own small HTTP client (transport.ts): everything else
// speaks the plain shapes in types.ts. @kubernetes/client-node used to live here; it cost ~70 MiB
// of RSS to import and its current major needs Node 22 (README).
import { ApiError, statusOf, toBridgeError } from './api-error.ts';
import { loadKubeConfig, type ConnectionSettings } from './access.ts';
import type { ClusterAccess } from './kubeconfig.ts';
import type { KMigration } from './migration-convert.ts';
import { Transport, type Query } from './transport.ts';
import type { KEndpointSlice, KLease, KNode, KService, ObjectMeta } from './types.ts';

export { loadKubeConfig, statusOf, toBridgeError, type ConnectionSettings };

export interface ListResult<T> { readonly items: T[]; readonly resourceVersion: string }

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';

/** A started watch; `abort` closes it (the done callback then runs with no error). */
export interface WatchHandle { abort(): void }

export type Resource = 'services' | 'endpointslices' | 'nodes';

/** A custom resource's API coordinates (a parameter, so tests can point at a type nobody installed). */
export interface CustomResource { readonly group: string; readonly version: string; readonly plural: string }

const MERGE_PATCH = 'application/merge-patch+json';
const JSON_PATCH = 'application/json-patch+json';

const e = encodeURIComponent;
const core = (ns: string, plural: string, name?: string): string => `/api/v1/namespaces/${e(ns)}/${plural}${name === undefined ? '' : `/${e(name)}`}`;
const group = (gv: string, ns: string, plural: string, name?: string): string => `/apis/${gv}/namespaces/${e(ns)}/${plural}${name === undefined ? '' : `/${e(name)}`}`;
const custom = (r: CustomResource, ns: string, name?: string): string => group(`${r.group}/${r.version}`, ns, r.plural, name);

const PATHS: Record<Resource, (ns: string | undefined) => string> = {
  services: (ns) => (ns === undefined ? '/api/v1/services' : core(ns, 'services')),
  endpointslices: (ns) => (ns === undefined ? '/apis/discovery.k8s.io/v1/endpointslices' : group('discovery.k8s.io/v1', ns, 'endpointslices')),
  nodes: () => '/api/v1/nodes',
};

/**
 * The API calls the adapter makes, and nothing else (deploy/rbac lists exactly these verbs).
 * Failures become BridgeErrors with stable codes; a 404 on a read is `undefined`, not an error.
 * Every write request is counted so tests can prove "zero writes".
 */
export class KubeClient {
  readonly #http: Transport;
  writes = 0;

  constructor(access: ClusterAccess) {
    this.#http = new Transport(access);
  }

  static connect(s: ConnectionSettings): KubeClient {
    return new KubeClient(loadKubeConfig(s));
  }

  async list(resource: 'services', ns: string | undefined, labelSelector?: string): Promise<ListResult<KService>>;
  async list(resource: 'endpointslices', ns: string | undefined, labelSelector?: string): Promise<ListResult<KEndpointSlice>>;
  async list(resource: 'nodes', ns: undefined, labelSelector?: string): Promise<ListResult<KNode>>;
  async list(resource: CustomResource, ns: undefined): Promise<ListResult<KMigration>>;
  async list(resource: Resource | CustomResource, ns: string | undefined, labelSelector?: string): Promise<ListResult<unknown>> {
    const query: Query = labelSelector === undefined ? {} : { labelSelector };
    return call(`list ${typeof resource === 'string' ? resource : `${resource.plural}.${resource.group}`}`, async () => {
      const list = (await this.#http.json('GET', pathOf(resource, ns), query)) as { items?: unknown[] | null; metadata?: { resourceVersion?: string } } | undefined;
      return { items: list?.items ?? [], resourceVersion: list?.metadata?.resourceVersion ?? '' };
    });
  }

  /** Starts a watch from `resourceVersion`, with bookmarks; `done` runs exactly once. */
  async watch(resource: Resource | CustomResource, ns: string | undefined, resourceVersion: string, onEvent: (type: WatchEventType, obj: unknown) => void, done: (err: unknown) => void, labelSelector?: string): Promise<WatchHandle> {
    const query: Query = { watch: true, resourceVersion, allowWatchBookmarks: true, timeoutSeconds: 300 + Math.floor(Math.random() * 60), ...(labelSelector === undefined ? {} : { labelSelector }) };
    const onLine = (line: unknown): void => {
      const ev = line as { type?: unknown; object?: unknown } | null;
      if (ev !== null && typeof ev === 'object' && typeof ev.type === 'string') onEvent(ev.type as WatchEventType, ev.object);
    };
    return this.#http.stream(pathOf(resource, ns), query, onLine, done);
  }

  getCustom(r: CustomResource, ns: string, name: string): Promise<KMigration | undefined> {
    return this.#read(`get ${r.plural}.${r.group} ${ns}/${name}`, custom(r, ns, name));
  }
  createCustom(r: CustomResource, body: KMigration): Promise<KMigration> {
    return this.#write(`create ${r.plural}.${r.group} ${describe(body.metadata)}`, 'POST', custom(r, body.metadata?.namespace ?? ''), body);
  }

  /** RFC 7386: a `null` removes a key, a map is merged key by key. */
  mergePatchCustom(r: CustomResource, ns: string, name: string, patch: Record<string, unknown>): Promise<KMigration> {
    return this.#write(`patch ${r.plural}.${r.group} ${ns}/${name}`, 'PATCH', custom(r, ns, name), patch, MERGE_PATCH);
  }

  /** A JSON patch `add` of /status replaces it whole: a key we stopped reporting disappears (a merge patch would keep it). */
  replaceCustomStatus(r: CustomResource, ns: string, name: string, status: unknown): Promise<KMigration> {
    return this.#write(`patch ${r.plural}.${r.group}/status ${ns}/${name}`, 'PATCH', `${custom(r, ns, name)}/status`, [{ op: 'add', path: '/status', value: status }], JSON_PATCH);
  }

  /** Namespaced objects of a custom resource (Istio kinds), optionally by label selector. */
  async listObjects<T>(r: CustomResource, ns: string | undefined, labelSelector?: string): Promise<ListResult<T>> {
    const query: Query = labelSelector === undefined ? {} : { labelSelector };
    const path = ns === undefined ? `/apis/${r.group}/${r.version}/${r.plural}` : custom(r, ns);
    return call(`list ${r.plural}.${r.group}`, async () => {
      const list = (await this.#http.json('GET', path, query)) as { items?: T[] | null; metadata?: { resourceVersion?: string } } | undefined;
      return { items: list?.items ?? [], resourceVersion: list?.metadata?.resourceVersion ?? '' };
    });
  }
  getObject<T>(r: CustomResource, ns: string, name: string): Promise<T | undefined> {
    return this.#read(`get ${r.plural}.${r.group} ${ns}/${name}`, custom(r, ns, name));
  }
  createObject<T extends { metadata?: ObjectMeta }>(r: CustomResource, body: T): Promise<T> {
    return this.#write(`create ${r.plural}.${r.group} ${describe(body.metadata)}`, 'POST', custom(r, body.metadata?.namespace ?? ''), body);
  }
  replaceObject<T extends { metadata?: ObjectMeta }>(r: CustomResource, body: T): Promise<T> {
    return this.#write(`replace ${r.plural}.${r.group} ${describe(body.metadata)}`, 'PUT', custom(r, body.metadata?.namespace ?? '', body.metadata?.name ?? ''), body);
  }
  async deleteObject(r: CustomResource, meta: ObjectMeta): Promise<void> {
    await this.#write(`delete ${r.plural}.${r.group} ${describe(meta)}`, 'DELETE', custom(r, meta.namespace ?? '', meta.name ?? ''), preconditions(meta), undefined, true);
  }

  /**
   * At most `limit` pods of `ns` matching both selectors: the Istio mode asks whether any pod
   * carries the DestinationRule's pod subset labels (optional-istio.yaml grants list pods).
   */
  async listPods(ns: string, labelSelector: string, fieldSelector: string, limit: number): Promise<ListResult<{ metadata?: ObjectMeta }>> {
    return call('list pods', async () => {
      const list = (await this.#http.json('GET', core(ns, 'pods'), { labelSelector, fieldSelector, limit })) as { items?: { metadata?: ObjectMeta }[] | null; metadata?: { resourceVersion?: string } } | undefined;
      return { items: list?.items ?? [], resourceVersion: list?.metadata?.resourceVersion ?? '' };
    });
  }

  getService(ns: string, name: string): Promise<KService | undefined> {
    return this.#read(`get service ${ns}/${name}`, core(ns, 'services', name));
  }

  createService(body: KService): Promise<KService> {
    return this.#write(`create service ${describe(body.metadata)}`, 'POST', core(body.metadata?.namespace ?? '', 'services'), body);
  }

  replaceService(body: KService): Promise<KService> {
    return this.#write(`replace service ${describe(body.metadata)}`, 'PUT', core(body.metadata?.namespace ?? '', 'services', body.metadata?.name ?? ''), body);
  }

  async deleteService(meta: ObjectMeta): Promise<void> {
    await this.#write(`delete service ${describe(meta)}`, 'DELETE', core(meta.namespace ?? '', 'services', meta.name ?? ''), preconditions(meta), undefined, true);
  }

  createSlice(body: KEndpointSlice): Promise<KEndpointSlice> {
    return this.#write(`create endpointslice ${describe(body.metadata)}`, 'POST', PATHS.endpointslices(body.metadata?.namespace ?? ''), body);
  }

  replaceSlice(body: KEndpointSlice): Promise<KEndpointSlice> {
    return this.#write(`replace endpointslice ${describe(body.metadata)}`, 'PUT', group('discovery.k8s.io/v1', body.metadata?.namespace ?? '', 'endpointslices', body.metadata?.name ?? ''), body);
  }

  async deleteSlice(meta: ObjectMeta): Promise<void> {
    await this.#write(`delete endpointslice ${describe(meta)}`, 'DELETE', group('discovery.k8s.io/v1', meta.namespace ?? '', 'endpointslices', meta.name ?? ''), preconditions(meta), undefined, true);
  }

  async namespaceExists(name: string): Promise<boolean> {
    return (await this.#read(`get namespace ${name}`, `/api/v1/namespaces/${e(name)}`)) !== undefined;
  }

  async createNamespace(name: string, labels: Record<string, string>): Promise<void> {
    await this.#write(`create namespace ${name}`, 'POST', '/api/v1/namespaces', { metadata: { name, labels } }, undefined, false, true);
  }

  getLease(ns: string, name: string): Promise<KLease | undefined> {
    return this.#read(`get lease ${ns}/${name}`, group('coordination.k8s.io/v1', ns, 'leases', name));
  }

  createLease(body: KLease): Promise<KLease> {
    return this.#write(`create lease ${describe(body.metadata)}`, 'POST', group('coordination.k8s.io/v1', body.metadata?.namespace ?? '', 'leases'), body);
  }

  replaceLease(body: KLease): Promise<KLease> {
    return this.#write(`replace lease ${describe(body.metadata)}`, 'PUT', group('coordination.k8s.io/v1', body.metadata?.namespace ?? '', 'leases', body.metadata?.name ?? ''), body);
  }

  async #read<T>(what: string, path: string): Promise<T | undefined> {
    try {
      return (await this.#http.json('GET', path)) as T;
    } catch (err) {
      if (err instanceof ApiError && err.statusCode === 404) return undefined;
      throw toBridgeError(what, err);
    }
  }

  async #write<T>(what: string, method: string, path: string, body: unknown, contentType?: string, goneIsDone = false, existsIsDone = false): Promise<T> {
    this.writes++;
    try {
      return (await this.#http.json(method, path, {}, body, contentType)) as T;
    } catch (err) {
      // A delete that finds nothing, or a create that finds it done, reached the goal anyway.
      if (goneIsDone && err instanceof ApiError && err.statusCode === 404) return undefined as T;
      if (existsIsDone && err instanceof ApiError && err.statusCode === 409) return undefined as T;
      throw toBridgeError(what, err);
    }
  }
}

function pathOf(resource: Resource | CustomResource, ns: string | undefined): string {
  if (typeof resource === 'string') return PATHS[resource](ns);
  return ns === undefined ? `/apis/${resource.group}/${resource.version}/${resource.plural}` : custom(resource, ns);
}

function describe(meta: ObjectMeta | undefined): string {
  return `${meta?.namespace ?? ''}/${meta?.name ?? ''}`;
}

function preconditions(meta: ObjectMeta): { preconditions: { uid?: string; resourceVersion?: string } } {
  // Delete exactly the object we inspected: if it changed hands meanwhile, the API refuses (409).
  return { preconditions: { ...(meta.uid === undefined ? {} : { uid: meta.uid }), ...(meta.resourceVersion === undefined ? {} : { resourceVersion: meta.resourceVersion }) } };
}

async function call<T>(what: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw toBridgeError(what, err);
  }
}

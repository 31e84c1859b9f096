// The only file that imports @kubernetes/client-node: everything else speaks the plain shapes in
// types.ts, so conversion stays pure and the client library stays replaceable.
import {
  ApiException,
  CoordinationV1Api,
  CoreV1Api,
  CustomObjectsApi,
  DiscoveryV1Api,
  KubeConfig,
  PatchStrategy,
  Watch,
  setHeaderOptions,
  type V1DeleteOptions,
  type V1EndpointSlice,
  type V1Lease,
  type V1Namespace,
  type V1Service,
} from '@kubernetes/client-node';
import { BridgeError } from '../../bridge/errors/index.ts';
import type { KMigration } from './migration-convert.ts';
import type { KEndpointSlice, KLease, KNode, KService, ObjectMeta } from './types.ts';

export interface ListResult<T> { readonly items: T[]; readonly resourceVersion: string }

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';

/** A started watch; `abort` closes it (the done callback then runs with no error). */
export interface WatchHandle { abort(): void }

export type Resource = 'services' | 'endpointslices' | 'nodes';

/** A custom resource's API coordinates (a parameter, so tests can point at a type nobody installed). */
export interface CustomResource { readonly group: string; readonly version: string; readonly plural: string }

export interface ConnectionSettings {
  readonly kubeconfig?: string;
  readonly context?: string;
  /** Explicit server/token/CA (tests, and token-only setups); wins over kubeconfig. */
  readonly server?: string;
  readonly token?: string;
  readonly caFile?: string;
}

const PATHS: Record<Resource, (ns: string | undefined) => string> = {
  services: (ns) => (ns === undefined ? '/api/v1/services' : `/api/v1/namespaces/${ns}/services`),
  endpointslices: (ns) => (ns === undefined ? '/apis/discovery.k8s.io/v1/endpointslices' : `/apis/discovery.k8s.io/v1/namespaces/${ns}/endpointslices`),
  nodes: () => '/api/v1/nodes',
};

export function loadKubeConfig(s: ConnectionSettings): KubeConfig {
  const kc = new KubeConfig();
  if (s.server !== undefined) {
    kc.loadFromOptions({
      clusters: [{ name: 'c', server: s.server, ...(s.caFile === undefined ? { skipTLSVerify: false } : { caFile: s.caFile }) }],
      users: [{ name: 'u', ...(s.token === undefined ? {} : { token: s.token }) }],
      contexts: [{ name: 'ctx', cluster: 'c', user: 'u' }],
      currentContext: 'ctx',
    });
  } else if (s.kubeconfig !== undefined) {
    kc.loadFromFile(s.kubeconfig);
  } else {
    kc.loadFromDefault();
  }
  if (s.context !== undefined) kc.setCurrentContext(s.context);
  reuseConnections(kc);
  return kc;
}

type AgentFactory = (cluster: unknown, options: Record<string, unknown>) => unknown;

/**
 * client-node 1.4 builds a new https.Agent for every request, so every call pays a fresh TCP +
 * TLS handshake (measured: ~20x slower reconciles on 2 cores). One keep-alive agent per
 * KubeConfig fixes that; credentials are headers, applied per request, so sharing is safe.
 */
function reuseConnections(kc: KubeConfig): void {
  const target = kc as unknown as { createAgent: AgentFactory };
  const original = target.createAgent.bind(kc);
  let agent: unknown;
  target.createAgent = (cluster, options) => (agent ??= original(cluster, { ...options, keepAlive: true }));
}

/**
 * The API calls the adapter makes, and nothing else (deploy/rbac lists exactly these verbs).
 * Failures become BridgeErrors with stable codes; a 404 on a read is `undefined`, not an error.
 * Every write request is counted so tests can prove "zero writes".
 */
export class KubeClient {
  readonly #core: CoreV1Api;
  readonly #discovery: DiscoveryV1Api;
  readonly #coordination: CoordinationV1Api;
  readonly #custom: CustomObjectsApi;
  readonly #watch: Watch;
  writes = 0;

  constructor(kc: KubeConfig) {
    this.#core = kc.makeApiClient(CoreV1Api);
    this.#discovery = kc.makeApiClient(DiscoveryV1Api);
    this.#coordination = kc.makeApiClient(CoordinationV1Api);
    this.#custom = kc.makeApiClient(CustomObjectsApi);
    this.#watch = new Watch(kc);
  }

  static connect(s: ConnectionSettings): KubeClient {
    return new KubeClient(loadKubeConfig(s));
  }

  async list(resource: 'services', ns: string | undefined, labelSelector?: string): Promise<ListResult<KService>>;
  async list(resource: 'endpointslices', ns: string | undefined, labelSelector?: string): Promise<ListResult<KEndpointSlice>>;
  async list(resource: 'nodes', ns: undefined, labelSelector?: string): Promise<ListResult<KNode>>;
  async list(resource: CustomResource, ns: undefined): Promise<ListResult<KMigration>>;
  async list(resource: Resource | CustomResource, ns: string | undefined, labelSelector?: string): Promise<ListResult<unknown>> {
    const sel = labelSelector === undefined ? {} : { labelSelector };
    return call(`list ${typeof resource === 'string' ? resource : `${resource.plural}.${resource.group}`}`, async () => {
      let list: { items?: unknown[]; metadata?: { resourceVersion?: string } };
      if (typeof resource === 'object') {
        list = (await this.#custom.listClusterCustomObject({ ...resource })) as typeof list;
      } else if (resource === 'services') {
        list = ns === undefined ? await this.#core.listServiceForAllNamespaces(sel) : await this.#core.listNamespacedService({ namespace: ns, ...sel });
      } else if (resource === 'endpointslices') {
        list = ns === undefined ? await this.#discovery.listEndpointSliceForAllNamespaces(sel) : await this.#discovery.listNamespacedEndpointSlice({ namespace: ns, ...sel });
      } else {
        list = await this.#core.listNode(sel);
      }
      return { items: list.items ?? [], resourceVersion: list.metadata?.resourceVersion ?? '' };
    });
  }

  /** Starts a watch from `resourceVersion`, with bookmarks; `done` runs exactly once. */
  async watch(resource: Resource | CustomResource, ns: string | undefined, resourceVersion: string, onEvent: (type: WatchEventType, obj: unknown) => void, done: (err: unknown) => void, labelSelector?: string): Promise<WatchHandle> {
    const path = typeof resource === 'string' ? PATHS[resource](ns) : `/apis/${resource.group}/${resource.version}/${resource.plural}`;
    const params = { resourceVersion, allowWatchBookmarks: true, timeoutSeconds: 300 + Math.floor(Math.random() * 60), ...(labelSelector === undefined ? {} : { labelSelector }) };
    const controller = await this.#watch.watch(path, params, (type: string, obj: unknown) => { onEvent(type as WatchEventType, obj); }, done);
    return { abort: () => { controller.abort(); } };
  }

  getCustom(r: CustomResource, ns: string, name: string): Promise<KMigration | undefined> {
    return read(`get ${r.plural}.${r.group} ${ns}/${name}`, () => this.#custom.getNamespacedCustomObject({ ...r, namespace: ns, name }));
  }
  createCustom(r: CustomResource, body: KMigration): Promise<KMigration> {
    return this.#write(`create ${r.plural}.${r.group} ${describe(body.metadata)}`, () => this.#custom.createNamespacedCustomObject({ ...r, namespace: body.metadata?.namespace ?? '', body }));
  }

  /** RFC 7386: a `null` removes a key, a map is merged key by key. */
  mergePatchCustom(r: CustomResource, ns: string, name: string, patch: Record<string, unknown>): Promise<KMigration> {
    return this.#write(`patch ${r.plural}.${r.group} ${ns}/${name}`, () => this.#custom.patchNamespacedCustomObject({ ...r, namespace: ns, name, body: patch }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch)));
  }

  /** A JSON patch `add` of /status replaces it whole: a key we stopped reporting disappears (a merge patch would keep it). */
  replaceCustomStatus(r: CustomResource, ns: string, name: string, status: unknown): Promise<KMigration> {
    return this.#write(`patch ${r.plural}.${r.group}/status ${ns}/${name}`, () => this.#custom.patchNamespacedCustomObjectStatus({ ...r, namespace: ns, name, body: [{ op: 'add', path: '/status', value: status }] }, setHeaderOptions('Content-Type', PatchStrategy.JsonPatch)));
  }

  getService(ns: string, name: string): Promise<KService | undefined> {
    return read(`get service ${ns}/${name}`, () => this.#core.readNamespacedService({ namespace: ns, name }));
  }

  createService(body: KService): Promise<KService> {
    return this.#write(`create service ${describe(body.metadata)}`, () => this.#core.createNamespacedService({ namespace: body.metadata?.namespace ?? '', body: wire<V1Service>(body) }));
  }

  replaceService(body: KService): Promise<KService> {
    return this.#write(`replace service ${describe(body.metadata)}`, () => this.#core.replaceNamespacedService({ namespace: body.metadata?.namespace ?? '', name: body.metadata?.name ?? '', body: wire<V1Service>(body) }));
  }

  async deleteService(meta: ObjectMeta): Promise<void> {
    await this.#write(`delete service ${describe(meta)}`, () => this.#core.deleteNamespacedService({ namespace: meta.namespace ?? '', name: meta.name ?? '', body: wire<V1DeleteOptions>(preconditions(meta)) }), true);
  }

  createSlice(body: KEndpointSlice): Promise<KEndpointSlice> {
    return this.#write(`create endpointslice ${describe(body.metadata)}`, () => this.#discovery.createNamespacedEndpointSlice({ namespace: body.metadata?.namespace ?? '', body: wire<V1EndpointSlice>(body) }));
  }

  replaceSlice(body: KEndpointSlice): Promise<KEndpointSlice> {
    return this.#write(`replace endpointslice ${describe(body.metadata)}`, () => this.#discovery.replaceNamespacedEndpointSlice({ namespace: body.metadata?.namespace ?? '', name: body.metadata?.name ?? '', body: wire<V1EndpointSlice>(body) }));
  }

  async deleteSlice(meta: ObjectMeta): Promise<void> {
    await this.#write(`delete endpointslice ${describe(meta)}`, () => this.#discovery.deleteNamespacedEndpointSlice({ namespace: meta.namespace ?? '', name: meta.name ?? '', body: wire<V1DeleteOptions>(preconditions(meta)) }), true);
  }

  async namespaceExists(name: string): Promise<boolean> {
    return (await read(`get namespace ${name}`, () => this.#core.readNamespace({ name }))) !== undefined;
  }

  async createNamespace(name: string, labels: Record<string, string>): Promise<void> {
    await this.#write(`create namespace ${name}`, () => this.#core.createNamespace({ body: wire<V1Namespace>({ metadata: { name, labels } }) }), false, true);
  }

  getLease(ns: string, name: string): Promise<KLease | undefined> {
    return read(`get lease ${ns}/${name}`, () => this.#coordination.readNamespacedLease({ namespace: ns, name }));
  }

  createLease(body: KLease): Promise<KLease> {
    return this.#write(`create lease ${describe(body.metadata)}`, () => this.#coordination.createNamespacedLease({ namespace: body.metadata?.namespace ?? '', body: wire<V1Lease>(body) }));
  }

  replaceLease(body: KLease): Promise<KLease> {
    return this.#write(`replace lease ${describe(body.metadata)}`, () => this.#coordination.replaceNamespacedLease({ namespace: body.metadata?.namespace ?? '', name: body.metadata?.name ?? '', body: wire<V1Lease>(body) }));
  }

  async #write<T>(what: string, fn: () => Promise<unknown>, goneIsDone = false, existsIsDone = false): Promise<T> {
    this.writes++;
    try {
      return (await fn()) as T;
    } catch (err) {
      // A delete that finds nothing, or a create that finds it done, reached the goal anyway.
      if (goneIsDone && err instanceof ApiException && err.code === 404) return undefined as T;
      if (existsIsDone && err instanceof ApiException && err.code === 409) return undefined as T;
      throw toBridgeError(what, err);
    }
  }
}

/**
 * The generated API wants its model classes, but its serializer reads plain objects of the same
 * shape just as well; our bodies are plain JSON-shaped objects (types.ts).
 */
// eslint-disable-next-line @typescript-eslint/no-unnecessary-type-parameters -- the point is the cast
function wire<T>(body: object): T {
  return body as T;
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

async function read<T>(what: string, fn: () => Promise<unknown>): Promise<T | undefined> {
  try {
    return (await fn()) as T;
  } catch (err) {
    if (err instanceof ApiException && err.code === 404) return undefined;
    throw toBridgeError(what, err);
  }
}

/** HTTP status of a failed call or watch, when there was an HTTP answer. */
export function statusOf(err: unknown): number | undefined {
  if (err instanceof ApiException) return err.code;
  if (typeof err === 'object' && err !== null) {
    const e = err as { statusCode?: unknown; code?: unknown };
    if (typeof e.statusCode === 'number') return e.statusCode;
    if (typeof e.code === 'number') return e.code;
  }
  return undefined;
}

export function toBridgeError(what: string, err: unknown): BridgeError {
  if (err instanceof BridgeError) return err;
  const status = statusOf(err);
  const reason = apiMessage(err);
  const msg = `kubernetes: ${what}: ${reason}`;
  const details = status === undefined ? {} : status === 404 ? { status, notFound: notFoundOf(err) } : { status };
  if (status === 401 || status === 403) return new BridgeError('ISTHMUS_REGISTRY_AUTH', msg, { cause: err, details });
  if (status === 409) return new BridgeError('ISTHMUS_REGISTRY_CONFLICT', msg, { cause: err, details });
  if (status === 400 || status === 422) return new BridgeError('ISTHMUS_REGISTRY_REJECTED', msg, { cause: err, details, terminal: true });
  // A write into a namespace that does not exist (yet): refused, but worth retrying later.
  if (status === 404) return new BridgeError('ISTHMUS_REGISTRY_REJECTED', msg, { cause: err, details });
  return new BridgeError('ISTHMUS_REGISTRY_UNREACHABLE', msg, { cause: err, details });
}

function apiMessage(err: unknown): string {
  if (!(err instanceof ApiException)) return err instanceof Error ? err.message : String(err);
  const body = bodyOf(err);
  if (body === undefined) return `HTTP ${err.code}`;
  const message = body.status?.message;
  return `HTTP ${err.code}: ${typeof message === 'string' ? message : body.text.slice(0, 300)}`;
}

// What a 404 was about (`details.notFound`): `resource` = the type is not served (CRD not installed;
// a plain "404 page not found", or a Status with empty details). A missing namespace/object is named.
function notFoundOf(err: unknown): 'resource' | 'namespace' | 'object' {
  const details = bodyOf(err)?.status?.details;
  if (details?.kind === 'namespaces') return 'namespace';
  return typeof details?.name === 'string' && details.name !== '' ? 'object' : 'resource';
}

/** The answer's text, and the API server's Status object when the text is one. */
function bodyOf(err: unknown): { text: string; status?: { message?: unknown; details?: { kind?: unknown; name?: unknown } } } | undefined {
  if (!(err instanceof ApiException) || typeof err.body !== 'string') return undefined;
  try {
    const parsed: unknown = JSON.parse(err.body);
    return typeof parsed === 'object' && parsed !== null ? { text: err.body, status: parsed } : { text: err.body };
  } catch {
    return { text: err.body }; // not JSON: "404 page not found" from an unknown API group
  }
}

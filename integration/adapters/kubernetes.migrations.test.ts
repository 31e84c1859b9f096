// The ServiceMigration store against a real API server: the CRD generated from the TypeBox
// schemas, objects written by hand and by the store, status replacement, two replicas, and a
// store that starts before its CRD exists (or without RBAC) and must not fail.
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { KubernetesMigrations, SERVICE_MIGRATIONS, type KubeClient } from '../../adapters/kubernetes/index.ts';
import { serviceMigrationCrd } from '../../adapters/kubernetes/migration-crd.ts';
import { BridgeError } from '../../bridge/errors/index.ts';
import type { Migration } from '../../bridge/ports/index.ts';
import { api, kubeEnv, type KubeTestEnv, must, testNamespace, unique } from './kubernetes-env.ts';
import { client } from './kubernetes-harness.ts';

const env = kubeEnv();
const CRDS = '/apis/apiextensions.k8s.io/v1/customresourcedefinitions';
const BASE = '/apis/isthmus.dev/v1alpha1';
const FAST = { minBackoffMs: 100, maxBackoffMs: 1000 };

type Json = Record<string, unknown>;

/** Create or replace, then wait until the API server serves the type. */
async function installCrd(e: KubeTestEnv, crd: Json): Promise<string> {
  const name = (crd['metadata'] as { name: string }).name;
  const created = await api(e, 'POST', CRDS, crd);
  if (created.status === 409) {
    const current = await must(e, 'GET', `${CRDS}/${name}`);
    await must(e, 'PUT', `${CRDS}/${name}`, { ...crd, metadata: { name, resourceVersion: current.metadata?.resourceVersion } });
  } else if (created.status >= 300) {
    throw new Error(`create CRD ${name} → ${created.status}: ${JSON.stringify(created.body).slice(0, 400)}`);
  }
  await vi.waitFor(async () => {
    const got = await must(e, 'GET', `${CRDS}/${name}`);
    const conditions = (got['status'] as { conditions?: { type: string; status: string }[] } | undefined)?.conditions ?? [];
    expect(conditions.some((c) => c.type === 'Established' && c.status === 'True')).toBe(true);
    // A new type answers 429 "storage is (re)initializing" for a moment after Established.
    const plural = ((crd['spec'] as Json)['names'] as { plural: string }).plural;
    const group = (crd['spec'] as { group: string }).group;
    expect((await api(e, 'GET', `/apis/${group}/v1alpha1/${plural}?limit=1`)).status).toBe(200);
  }, { timeout: 30_000, interval: 100 });
  return name;
}

/** The same CRD under a group nobody else uses (for the "installed later" case). */
function crdInGroup(group: string): Json {
  const base = serviceMigrationCrd();
  const spec = base['spec'] as Json;
  const names = { ...(spec['names'] as Json) };
  delete names['shortNames'];
  delete names['categories'];
  return { ...base, metadata: { name: `servicemigrations.${group}` }, spec: { ...spec, group, names } };
}

function find(list: readonly Migration[], ns: string, name: string): Migration | undefined {
  return list.find((m) => m.object.namespace === ns && m.object.name === name);
}

async function rejection(p: Promise<unknown>): Promise<BridgeError> {
  try {
    await p;
  } catch (err) {
    if (err instanceof BridgeError) return err;
    throw err;
  }
  throw new Error('expected a rejection');
}

describe.skipIf(env === undefined)('kubernetes ServiceMigration store', () => {
  const e = env!;
  const abort = new AbortController();
  let ns = '';
  let other = '';
  let c: KubeClient;
  let a: KubernetesMigrations;
  let b: KubernetesMigrations;
  let changes = 0;

  const obj = (name: string, spec: Json): Json => ({ apiVersion: 'isthmus.dev/v1alpha1', kind: 'ServiceMigration', metadata: { name }, spec });
  const post = (space: string, name: string, spec: Json): Promise<unknown> => must(e, 'POST', `${BASE}/namespaces/${space}/servicemigrations`, obj(name, spec));
  const get = (space: string, name: string): Promise<Json> => must(e, 'GET', `${BASE}/namespaces/${space}/servicemigrations/${name}`);

  beforeAll(async () => {
    ns = await testNamespace(e, 'mig');
    other = await testNamespace(e, 'mig-other');
    await installCrd(e, serviceMigrationCrd());
    c = client(e);
    a = new KubernetesMigrations(c, { recheckSeconds: 1, ...FAST });
    b = new KubernetesMigrations(client(e), { recheckSeconds: 1, ...FAST });
    a.onChange(() => { changes++; });
    await Promise.all([a.start(abort.signal), b.start(abort.signal)]);
  });
  afterAll(async () => {
    abort.abort();
    // The CRD stays: it is cluster-wide and other test files may be using it.
    for (const space of [ns, other]) {
      await api(e, 'DELETE', `${BASE}/namespaces/${space}/servicemigrations`);
      await api(e, 'DELETE', `/api/v1/namespaces/${space}`);
    }
  });

  it('lists at start and shows an object applied by hand within 1 s', async () => {
    // Another test file may have just (re)created the type: the store retries on its backoff.
    await vi.waitFor(() => { expect(a.available()).toEqual({ ok: true }); }, { timeout: 10_000, interval: 50 });
    await vi.waitFor(() => { expect(b.available()).toEqual({ ok: true }); }, { timeout: 10_000, interval: 50 });
    const before = changes;
    const t0 = Date.now();
    await post(ns, 'orders', { split: { vm: 90, k8s: 10 }, phase: 'shifting' });
    await vi.waitFor(() => {
      expect(find(a.list(), ns, 'orders')).toMatchObject({ ref: { namespace: ns, name: 'orders' }, split: { vm: 90, k8s: 10 }, phase: 'shifting', generation: 1 });
    }, { timeout: 1000, interval: 10 });
    console.log(`servicemigration watch latency: ${Date.now() - t0} ms`);
    expect(find(a.list(), ns, 'orders')?.problem).toBeUndefined();
    expect(changes).toBeGreaterThan(before);
  });

  it('spec.service names the service: namespace/name from another namespace, or a name the object could not have', async () => {
    await post(other, 'payments-migration', { service: `${ns}/payments`, split: { vm: 1 } });
    await post(ns, 'billing-migration', { service: 'Billing_V1' });
    await vi.waitFor(() => {
      expect(find(a.list(), other, 'payments-migration')?.ref).toEqual({ namespace: ns, name: 'payments' });
      expect(find(a.list(), ns, 'billing-migration')?.ref).toEqual({ namespace: ns, name: 'Billing_V1' });
    }, { timeout: 1000, interval: 10 });
  });

  it('what the CRD schema admits but the bridge cannot use becomes a problem, not an error', async () => {
    // The schema itself refuses a negative share: that never reaches the store.
    const refused = await api(e, 'POST', `${BASE}/namespaces/${ns}/servicemigrations`, obj('negative', { split: { vm: -1 } }));
    expect(refused.status).toBe(422);
    await post(ns, 'dup-a', { service: 'stock', split: { vm: 1 } });
    await post(ns, 'dup-b', { service: 'stock', split: { k8s: 1 } });
    await post(ns, 'zeros', { split: { vm: 0, k8s: 0 } });
    await vi.waitFor(() => {
      expect(find(a.list(), ns, 'dup-b')?.problem).toBe(`another ServiceMigration (${ns}/dup-a) already governs ${ns}/stock`);
      expect(find(a.list(), ns, 'dup-b')?.split).toBeUndefined();
      expect(find(a.list(), ns, 'dup-a')).toMatchObject({ split: { vm: 1 } });
      expect(find(a.list(), ns, 'zeros')?.problem).toBe('spec.split: at least one share must be above 0');
    }, { timeout: 1000, interval: 10 });
  });

  it('setSplit creates, patches (dropping origins left out) and removes; a second replica sees each within 1 s', async () => {
    const ref = { namespace: ns, name: 'inventory' };
    const writes = c.writes;
    expect(await a.setSplit(ref, { vm: 90, k8s: 10 })).toEqual({ namespace: ns, name: 'inventory' });
    expect(find(a.list(), ns, 'inventory')?.split).toEqual({ vm: 90, k8s: 10 }); // at once, from the response
    const created = await get(ns, 'inventory');
    expect((created['metadata'] as { labels?: Json }).labels).toEqual({ 'app.kubernetes.io/managed-by': 'isthmus' });
    await vi.waitFor(() => { expect(find(b.list(), ns, 'inventory')?.split).toEqual({ vm: 90, k8s: 10 }); }, { timeout: 1000, interval: 10 });

    await a.setSplit(ref, { k8s: 100 });
    expect((await get(ns, 'inventory'))['spec']).toEqual({ split: { k8s: 100 } });
    await vi.waitFor(() => { expect(find(b.list(), ns, 'inventory')?.split).toEqual({ k8s: 100 }); }, { timeout: 1000, interval: 10 });

    await b.setSplit(ref, undefined); // the other replica writes this time
    expect((await get(ns, 'inventory'))['spec']).toEqual({});
    await vi.waitFor(() => {
      expect(find(a.list(), ns, 'inventory')).toBeDefined();
      expect(find(a.list(), ns, 'inventory')?.split).toBeUndefined();
    }, { timeout: 1000, interval: 10 });
    expect(c.writes - writes).toBe(2);
  });

  it('setSplit patches the object that governs the service, wherever it lives', async () => {
    expect(await a.setSplit({ namespace: ns, name: 'payments' }, { vm: 50, k8s: 50 })).toEqual({ namespace: other, name: 'payments-migration' });
    expect((await get(other, 'payments-migration'))['spec']).toEqual({ service: `${ns}/payments`, split: { vm: 50, k8s: 50 } });
  });

  it('a service name Kubernetes cannot hold gets a hashed object name and spec.service', async () => {
    const ref = { namespace: ns, name: 'Orders_V2' };
    const written = await a.setSplit(ref, { vm: 1 });
    expect(written.name).toMatch(/^orders-v2-[0-9a-f]{8}$/);
    expect((await get(ns, written.name))['spec']).toEqual({ service: 'Orders_V2', split: { vm: 1 } });
    expect(await a.setSplit(ref, { vm: 2 })).toEqual(written); // patched, not a second object
    expect(a.list().filter((m) => m.ref.name === 'Orders_V2')).toHaveLength(1);
  });

  it('a stale view costs a conflict and a reread, never a merged split', async () => {
    const staleClient = client(e);
    const stale = new KubernetesMigrations(staleClient, { recheckSeconds: 1, ...FAST });
    const stop = new AbortController();
    await stale.start(stop.signal);
    stop.abort(); // no more watch events: its view of "orders" stays as it is now
    const reply = await api(e, 'PATCH', `${BASE}/namespaces/${ns}/servicemigrations/orders`, { spec: { split: { vm: 90, k8s: 10, gateway: 5 } } }, e.token, 'application/merge-patch+json');
    expect(reply.status).toBe(200);
    await stale.setSplit({ namespace: ns, name: 'orders' }, { k8s: 100 });
    expect(((await get(ns, 'orders'))['spec'] as Json)['split']).toEqual({ k8s: 100 });
    expect(staleClient.writes).toBe(2); // the refused conditional patch, then the one after the reread
  });

  it('writeStatus replaces the status subresource: a key left out disappears', async () => {
    const object = { namespace: ns, name: 'orders' };
    const conditions = [{ type: 'Synced', status: 'True' as const, reason: 'InSync', message: 'ok', lastTransitionTime: '2025-01-01T00:00:00Z' }];
    await a.writeStatus(object, { observedGeneration: 1, service: `${ns}/orders`, origins: { vm: { ready: 2, total: 2 }, k8s: { ready: 1, total: 3, share: 10 } }, conditions });
    expect(((await get(ns, 'orders'))['status'] as Json)['origins']).toEqual({ vm: { ready: 2, total: 2 }, k8s: { ready: 1, total: 3, share: 10 } });
    const spec = (await get(ns, 'orders'))['spec'];
    await a.writeStatus(object, { observedGeneration: 1, origins: { k8s: { ready: 3, total: 3 } } });
    const after = await get(ns, 'orders');
    expect(after['status']).toEqual({ observedGeneration: 1, origins: { k8s: { ready: 3, total: 3 } } });
    expect(after['spec']).toEqual(spec); // the status subresource never touches spec
    expect(find(a.list(), ns, 'orders')?.status).toEqual({ observedGeneration: 1, origins: { k8s: { ready: 3, total: 3 } } });
    await vi.waitFor(() => { expect(find(b.list(), ns, 'orders')?.status?.origins).toEqual({ k8s: { ready: 3, total: 3 } }); }, { timeout: 1000, interval: 10 });
    await a.writeStatus({ namespace: ns, name: 'gone-meanwhile' }, {}); // a deleted object: nothing to write, no error
  });

  it('without RBAC: unavailable with the reason, start resolves, setSplit says which verb is missing', async () => {
    const sa = unique('no-rbac');
    await must(e, 'POST', `/api/v1/namespaces/${ns}/serviceaccounts`, { metadata: { name: sa } });
    const reply = await must(e, 'POST', `/api/v1/namespaces/${ns}/serviceaccounts/${sa}/token`, { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec: { expirationSeconds: 600 } });
    const token = (reply['status'] as { token: string }).token;
    const store = new KubernetesMigrations(client(e, e.server, token), { recheckSeconds: 1, ...FAST });
    await store.start(abort.signal);
    expect(store.available()).toEqual({ ok: false, reason: 'RBAC: cannot list servicemigrations.isthmus.dev' });
    const err = await rejection(store.setSplit({ namespace: ns, name: 'orders' }, { vm: 1 }));
    expect(err.code).toBe('ISTHMUS_MIGRATION_UNAVAILABLE');
    expect(err.message).toMatch(/RBAC: cannot list servicemigrations\.isthmus\.dev; grant .* list on servicemigrations/);
  });

  it('before its CRD exists: unavailable, start resolves; installing the CRD later starts the watch; removing it makes it unavailable again', async () => {
    const group = `${unique('t')}.it.isthmus.dev`;
    const resource = { ...SERVICE_MIGRATIONS, group };
    const store = new KubernetesMigrations(client(e), { recheckSeconds: 0.2, ...FAST, resource });
    const t0 = Date.now();
    await store.start(abort.signal);
    expect(Date.now() - t0).toBeLessThan(5000);
    expect(store.available()).toEqual({ ok: false, reason: `CRD servicemigrations.${group} is not installed` });
    const err = await rejection(store.setSplit({ namespace: ns, name: 'orders' }, { vm: 1 }));
    expect(err.code).toBe('ISTHMUS_MIGRATION_UNAVAILABLE');
    expect(err.message).toContain('kubectl apply -f deploy/crds/');

    const name = await installCrd(e, crdInGroup(group));
    try {
      await must(e, 'POST', `/apis/${group}/v1alpha1/namespaces/${ns}/servicemigrations`, { ...obj('late', { split: { vm: 3 } }), apiVersion: `${group}/v1alpha1` });
      await vi.waitFor(() => {
        expect(store.available()).toEqual({ ok: true });
        expect(find(store.list(), ns, 'late')?.split).toEqual({ vm: 3 });
      }, { timeout: 10_000, interval: 20 });
      expect(await store.setSplit({ namespace: ns, name: 'late' }, { vm: 4 })).toEqual({ namespace: ns, name: 'late' });
    } finally {
      await api(e, 'DELETE', `${CRDS}/${name}`);
    }
    await vi.waitFor(() => {
      expect(store.available()).toEqual({ ok: false, reason: `CRD servicemigrations.${group} is not installed` });
    }, { timeout: 20_000, interval: 50 });
  });
});

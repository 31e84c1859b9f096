// The ServiceMigration CRD on the real kube-apiserver: it is accepted (server-side dry run, then
// for real, and left installed for other tests), the apiserver enforces the schema we generate
// from TypeBox (shares, phases, unknown fields), the status subresource and printer columns work
// as `kubectl get smig` shows them. Test objects live in a test namespace and are deleted.
import { readFileSync } from 'node:fs';
import { request } from 'node:https';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serviceMigrationCrd } from '../../adapters/kubernetes/migration-crd.ts';
import { api, kubeEnv, testNamespace, type KubeTestEnv } from '../adapters/kubernetes-env.ts';
import { parseObjects } from './chart.ts';
import { CRD_NAME, MIGRATION_EXAMPLE, ensureMigrationCrd, migrationsPath } from './crd.ts';

const env = kubeEnv();
const CRDS = '/apis/apiextensions.k8s.io/v1/customresourcedefinitions';

interface Table {
  kind: string;
  columnDefinitions: { name: string }[];
  rows: { cells: unknown[] }[];
}

/** GET with another Accept header than api() sends: the Table form kubectl get asks for. */
function getTable(e: KubeTestEnv, path: string): Promise<{ status: number; body: Table }> {
  return new Promise((resolve, reject) => {
    const headers = { Authorization: `Bearer ${e.token}`, Accept: 'application/json;as=Table;v=v1;g=meta.k8s.io' };
    const req = request(new URL(path, e.server), { method: 'GET', ca: readFileSync(e.caFile), headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        resolve({ status: res.statusCode ?? 0, body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as Table });
      });
    });
    req.on('error', reject);
    req.end();
  });
}

describe.skipIf(env === undefined)('ServiceMigration CRD on the real API server', () => {
  const e = env!;
  let ns = '';
  const created: string[] = [];

  const migration = (name: string, spec: unknown) => ({ apiVersion: 'isthmus.dev/v1alpha1', kind: 'ServiceMigration', metadata: { name, namespace: ns }, spec });
  const dryRun = (body: unknown, validation = 'Strict') => api(e, 'POST', `${migrationsPath(ns)}?dryRun=All&fieldValidation=${validation}`, body);
  const reason = (reply: { body: Record<string, unknown> }) => String(reply.body['message']);

  beforeAll(async () => {
    // Dry run first: proves the generated CRD is acceptable even on a cluster that has none yet.
    const existing = await api(e, 'GET', `${CRDS}/${CRD_NAME}`);
    const crd = serviceMigrationCrd();
    const check = existing.status === 404
      ? await api(e, 'POST', `${CRDS}?dryRun=All&fieldValidation=Strict`, crd)
      : await api(e, 'PUT', `${CRDS}/${CRD_NAME}?dryRun=All&fieldValidation=Strict`, {
        ...crd, metadata: { ...(crd['metadata'] as object), resourceVersion: existing.body.metadata?.resourceVersion },
      });
    if (check.status >= 300) throw new Error(`CRD dry run: ${check.status} ${JSON.stringify(check.body).slice(0, 800)}`);
    await ensureMigrationCrd(e);
    ns = await testNamespace(e, 'smig');
  });

  afterAll(async () => {
    if (ns === '') return;
    for (const name of created) await api(e, 'DELETE', `${migrationsPath(ns)}/${name}`);
    await api(e, 'DELETE', `/api/v1/namespaces/${ns}`);
  });

  it('is established with the names kubectl uses', async () => {
    const crd = await api(e, 'GET', `${CRDS}/${CRD_NAME}`);
    const status = crd.body['status'] as { conditions: { type: string; status: string }[]; acceptedNames: Record<string, unknown> };
    expect(status.conditions).toContainEqual(expect.objectContaining({ type: 'Established', status: 'True' }));
    expect(status.conditions).not.toContainEqual(expect.objectContaining({ type: 'NonStructuralSchema' }));
    expect(status.acceptedNames).toMatchObject({ kind: 'ServiceMigration', shortNames: ['smig'], categories: ['isthmus'] });
    // What was stored is what we generated (the apiserver dropped nothing it did not understand).
    const stored = (crd.body['spec'] as { versions: { schema: unknown }[] }).versions[0]!.schema;
    const generated = (serviceMigrationCrd()['spec'] as { versions: { schema: unknown }[] }).versions[0]!.schema;
    expect(stored).toEqual(generated);
  });

  it('accepts the shipped example', async () => {
    const [example] = parseObjects(readFileSync(MIGRATION_EXAMPLE, 'utf8'));
    const reply = await dryRun({ ...example, metadata: { ...example!.metadata, namespace: ns } });
    expect(reply.status, JSON.stringify(reply.body)).toBe(201);
    expect(reply.body['spec']).toEqual({ service: 'shop/orders', split: { vm: 90, k8s: 10 }, phase: 'shifting' });
    // An empty spec is valid too: service = the object's name, split from the config file.
    expect((await dryRun(migration('orders', {}))).status).toBe(201);
  });

  it.each([
    ['a negative share', { split: { vm: -1, k8s: 10 } }, /spec\.split\.vm.*greater than or equal to 0/],
    ['a share over 10000', { split: { vm: 10001 } }, /spec\.split\.vm.*less than or equal to 10000/],
    ['a share that is not a number', { split: { vm: 'ninety' } }, /spec\.split\.vm.*must be of type number/],
    ['an empty split', { split: {} }, /spec\.split.*at least 1 (item|propert)/],
    ['an unknown phase', { phase: 'halfway' }, /spec\.phase.*Unsupported value: "halfway"/],
    ['an empty service', { service: '' }, /spec\.service.*at least 1 chars/],
  ])('refuses %s', async (_name, spec, message) => {
    const reply = await dryRun(migration('bad', spec));
    expect(reply.status).toBe(422);
    expect(reason(reply)).toMatch(message);
  });

  it('refuses an unknown spec field under strict validation, prunes it otherwise', async () => {
    const spec = { split: { vm: 90, k8s: 10 }, weights: { vm: 1 } };
    // kubectl's default (fieldValidation=Strict): refused, so a typo cannot silently do nothing.
    const strict = await dryRun(migration('typo', spec));
    expect(strict.status).toBe(400);
    expect(reason(strict)).toMatch(/unknown field "spec\.weights"/);
    // Plain API clients (Warn, Ignore): stored without the field, since the schema has no
    // x-kubernetes-preserve-unknown-fields. The bridge never sees it.
    for (const validation of ['Warn', 'Ignore']) {
      const pruned = await dryRun(migration('typo', spec), validation);
      expect(pruned.status).toBe(201);
      expect(pruned.body['spec']).toEqual({ split: { vm: 90, k8s: 10 } });
    }
  });

  it('keeps the registry id pattern to the bridge: the apiserver admits any split key', async () => {
    // Kubernetes has no key constraint for maps; MigrationSpecSchema (the bridge) refuses this.
    expect((await dryRun(migration('keys', { split: { 'Not An Id': 1 } }))).status).toBe(201);
  });

  it('has a status subresource and the printer columns kubectl get shows', async () => {
    const name = 'orders';
    const object = migration(name, { split: { vm: 90, k8s: 10 }, phase: 'shifting' });
    const post = await api(e, 'POST', `${migrationsPath(ns)}?fieldValidation=Strict`, { ...object, status: { split: 'ignored' } });
    expect(post.status, JSON.stringify(post.body)).toBe(201);
    created.push(name);
    // The main resource ignores status: only the bridge's /status patches write it.
    expect(post.body['status']).toBeUndefined();
    const status = { service: `${ns}/orders`, split: 'vm=90 k8s=10 (migration)', ready: 'vm 2/2, k8s 3/3', conditions: [
      { type: 'Synced', status: 'True', reason: 'Written', message: 'all sinks in sync', lastTransitionTime: '2025-01-01T00:00:00Z' },
    ] };
    const patched = await api(e, 'PATCH', `${migrationsPath(ns)}/${name}/status`, { status }, e.token, 'application/merge-patch+json');
    expect(patched.status, JSON.stringify(patched.body)).toBe(200);
    const badStatus = await api(e, 'PATCH', `${migrationsPath(ns)}/${name}/status`, { status: { quarantined: -1 } }, e.token, 'application/merge-patch+json');
    expect(badStatus.status).toBe(422);

    const table = await getTable(e, migrationsPath(ns));
    expect(table.status).toBe(200);
    expect(table.body.kind).toBe('Table');
    const columns = table.body.columnDefinitions.map((c) => c.name);
    expect(columns).toEqual(expect.arrayContaining(['Name', 'Service', 'Phase', 'Split', 'Ready', 'Synced', 'Age']));
    expect(table.body.rows).toHaveLength(1);
    const cell = (column: string) => table.body.rows[0]!.cells[columns.indexOf(column)];
    expect([cell('Name'), cell('Service'), cell('Phase'), cell('Split'), cell('Ready'), cell('Synced')])
      .toEqual([name, `${ns}/orders`, 'shifting', 'vm=90 k8s=10 (migration)', 'vm 2/2, k8s 3/3', 'True']);
  });
});

// Every object the chart renders (default values, and the production example) and every plain
// manifest in deploy/kubernetes is accepted by the real kube-apiserver with a server-side dry
// run and strict field validation: schema, defaults and admission all run, nothing is stored.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, kubeEnv, testNamespace } from '../adapters/kubernetes-env.ts';
import { PLAIN_RELEASE, PRODUCTION_VALUES, helmTemplate, parseObjects, type KubeObject } from './chart.ts';
import { buildHelm } from './helm-binary.ts';
import { createObject, ensureOperatorCrds } from './kube-apply.ts';

const env = kubeEnv();

describe.skipIf(env === undefined)('deploy manifests: server-side dry run on the real API server', () => {
  const e = env!;
  let helm = '';
  const namespaces: string[] = [];

  beforeAll(async () => {
    helm = await buildHelm();
    await ensureOperatorCrds(e);
  });
  afterAll(async () => {
    for (const ns of namespaces) await api(e, 'DELETE', `/api/v1/namespaces/${ns}`);
  });

  /** Dry-runs each object; returns the rejections (empty = all accepted). */
  async function dryRunAll(objects: KubeObject[]): Promise<string[]> {
    const rejected: string[] = [];
    for (const o of objects) {
      const reply = await createObject(e, o, true);
      const warnings = reply.status === 201 ? '' : ` → ${reply.status} ${JSON.stringify(reply.body).slice(0, 500)}`;
      if (warnings !== '') rejected.push(`${o.kind} ${o.metadata.namespace ?? ''}/${o.metadata.name}${warnings}`);
    }
    return rejected;
  }

  it('chart with default values', async () => {
    const ns = await testNamespace(e, 'dry-default');
    namespaces.push(ns);
    const objects = parseObjects(await helmTemplate(helm, {
      release: 'isthmus',
      namespace: ns,
      setJson: [`config.registries.k8s.leaderElection.namespace="${ns}"`],
    }));
    expect(objects.length).toBeGreaterThanOrEqual(9);
    expect(await dryRunAll(objects)).toEqual([]);
  });

  it('chart with the production example values', async () => {
    const [release, shop, payments] = [await testNamespace(e, 'dry-prod'), await testNamespace(e, 'dry-shop'), await testNamespace(e, 'dry-pay')];
    namespaces.push(release, shop, payments);
    const objects = parseObjects(await helmTemplate(helm, {
      release: 'isthmus',
      namespace: release,
      valuesFiles: [PRODUCTION_VALUES],
      setJson: [`config.registries.k8s.namespaces=["${shop}","${payments}"]`, `config.registries.k8s.leaderElection.namespace="${release}"`],
    }));
    expect(objects.map((o) => o.kind)).toEqual(expect.arrayContaining(['ServiceMonitor', 'PrometheusRule', 'NetworkPolicy', 'PodDisruptionBudget', 'Deployment']));
    expect(await dryRunAll(objects)).toEqual([]);
  });

  it('keeps the resolver token the cluster already has when the chart is rendered again (upgrade)', async () => {
    const ns = await testNamespace(e, 'dry-token');
    namespaces.push(ns);
    const kept = Buffer.from('token-from-the-first-install').toString('base64');
    const secret = { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'isthmus-resolver-token', namespace: ns }, data: { token: kept } };
    expect((await createObject(e, secret, false)).status).toBe(201);
    const dir = mkdtempSync(join(tmpdir(), 'isthmus-kubeconfig-'));
    const kubeconfig = join(dir, 'config');
    writeFileSync(kubeconfig, JSON.stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: 'it', cluster: { server: e.server, 'certificate-authority': e.caFile } }],
      users: [{ name: 'admin', user: { token: e.token } }],
      contexts: [{ name: 'it', context: { cluster: 'it', user: 'admin', namespace: ns } }],
      'current-context': 'it',
    }));
    const objects = parseObjects(await helmTemplate(helm, { release: 'isthmus', namespace: ns, kubeconfig }));
    const rendered = objects.find((o) => o.kind === 'Secret') as unknown as { data: { token: string } };
    expect(rendered.data.token).toBe(kept);
  });

  it('plain manifests in deploy/kubernetes (namespace first)', async () => {
    const dir = new URL('../../deploy/kubernetes/', import.meta.url);
    const files = (await readdir(dir)).filter((f) => f.endsWith('.yaml'));
    const objects = files.flatMap((f) => parseObjects(readFileSync(new URL(f, dir), 'utf8')));
    expect(objects.map((o) => o.kind)).toContain('Deployment');
    // The manifests target isthmus-system; it must exist for namespaced dry runs (created for
    // real, once, and left: a namespace cannot be deleted without a controller-manager anyway).
    const nsObject = objects.find((o) => o.kind === 'Namespace');
    expect(nsObject?.metadata.name).toBe(PLAIN_RELEASE.namespace);
    const exists = await api(e, 'GET', `/api/v1/namespaces/${PLAIN_RELEASE.namespace}`);
    if (exists.status === 404) await createObject(e, nsObject!, false);
    expect(await dryRunAll(objects.filter((o) => o.kind !== 'Namespace'))).toEqual([]);
    expect(await dryRunAll([nsObject!]).then((r) => r.filter((x) => !x.includes('409')))).toEqual([]);
  });
});

// The Istio mode under the shipped least-privilege roles: a token bound to deploy/rbac's bridge
// role plus optional-istio.yaml imports, re-checks and cleans up a VM-only and a Service-selected
// service; the same token without optional-istio.yaml is refused (so the optional role is what
// grants the Istio kinds, and the bridge role alone does not).
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { KubernetesSink } from '../../adapters/kubernetes/index.ts';
import { BridgeError } from '../../bridge/errors/index.ts';
import type { Endpoint, ServiceSnapshot } from '../../bridge/model/index.ts';
import { installIstioCrds } from '../istio/install.ts';
import { api, cleanupNamespace, kubeEnv, type KubeTestEnv, must, testNamespace, unique } from './kubernetes-env.ts';
import { client, k8sOptions } from './kubernetes-harness.ts';

const env = kubeEnv();
const RBAC = '/apis/rbac.authorization.k8s.io/v1';
interface Doc { kind: string; metadata: { name: string; namespace?: string }; roleRef?: { name: string }; subjects?: { name?: string; namespace?: string }[]; rules?: { resources: string[] }[] }

/** Applies the cluster-scoped objects of `file` for ServiceAccount `sa` in `ns`, renamed per run; `without` drops rules on those resources. */
async function bind(e: KubeTestEnv, file: string, ns: string, sa: string, suffix: string, without: string[] = []): Promise<string[]> {
  const created: string[] = [];
  for (const d of parseAllDocuments(readFileSync(new URL(`../../deploy/rbac/${file}`, import.meta.url), 'utf8'))) {
    const doc = d.toJSON() as Doc;
    if (!doc.kind.startsWith('Cluster')) continue;
    if (doc.rules !== undefined) doc.rules = doc.rules.filter((r) => !r.resources.some((x) => without.includes(x)));
    doc.metadata.name += `-${suffix}`;
    if (doc.roleRef !== undefined) doc.roleRef.name += `-${suffix}`;
    for (const s of doc.subjects ?? []) Object.assign(s, { name: sa, namespace: ns });
    const path = `${RBAC}/${doc.kind === 'ClusterRole' ? 'clusterroles' : 'clusterrolebindings'}`;
    await must(e, 'POST', path, doc);
    created.push(`${path}/${doc.metadata.name}`);
  }
  return created;
}

async function tokenFor(e: KubeTestEnv, ns: string, sa: string): Promise<string> {
  await must(e, 'POST', `/api/v1/namespaces/${ns}/serviceaccounts`, { metadata: { name: sa } });
  const reply = await must(e, 'POST', `/api/v1/namespaces/${ns}/serviceaccounts/${sa}/token`, { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenRequest', spec: { expirationSeconds: 3600 } });
  return (reply['status'] as { token: string }).token;
}

function ep(i: number): Endpoint {
  return { address: `10.71.0.${i}`, ports: { http: 8080 }, ready: true, serving: true, terminating: false, weight: 100, metadata: {}, origin: { registry: 'nacos', nativeId: `vm-${i}` } };
}

describe.skipIf(env === undefined)('kubernetes Istio mode under the shipped RBAC', () => {
  const e = env!;
  let ns = '';
  let granted = '';
  let bare = '';
  let noPods = '';
  const cleanup: string[] = [];
  beforeAll(async () => {
    await installIstioCrds(e);
    ns = await testNamespace(e, 'istio-rbac');
    const suffix = unique('t');
    granted = await tokenFor(e, ns, 'with-istio');
    bare = await tokenFor(e, ns, 'without-istio');
    cleanup.push(...await bind(e, 'clusterrole.yaml', ns, 'with-istio', `${suffix}-a`), ...await bind(e, 'clusterrolebinding.yaml', ns, 'with-istio', `${suffix}-a`));
    cleanup.push(...await bind(e, 'optional-istio.yaml', ns, 'with-istio', `${suffix}-a`));
    cleanup.push(...await bind(e, 'clusterrole.yaml', ns, 'without-istio', `${suffix}-b`), ...await bind(e, 'clusterrolebinding.yaml', ns, 'without-istio', `${suffix}-b`));
    // optional-istio.yaml as it was before pods were listed: an upgrade that kept the old role.
    noPods = await tokenFor(e, ns, 'istio-no-pods');
    cleanup.push(...await bind(e, 'clusterrole.yaml', ns, 'istio-no-pods', `${suffix}-c`), ...await bind(e, 'clusterrolebinding.yaml', ns, 'istio-no-pods', `${suffix}-c`));
    cleanup.push(...await bind(e, 'optional-istio.yaml', ns, 'istio-no-pods', `${suffix}-c`, ['pods']));
  });
  afterAll(async () => {
    for (const p of cleanup) await api(e, 'DELETE', p);
    for (const plural of ['workloadentries', 'serviceentries', 'destinationrules', 'virtualservices']) await api(e, 'DELETE', `/apis/networking.istio.io/v1/namespaces/${ns}/${plural}`);
    await cleanupNamespace(e, ns);
    await api(e, 'DELETE', `/api/v1/namespaces/${ns}`);
  });

  const options = () => k8sOptions({ namespaces: [ns], sink: { istio: { enabled: true, vipCidr: '240.241.0.0/16' } } });
  const snap = (name: string, endpoints: Endpoint[]): ServiceSnapshot => ({ ref: { namespace: ns, name }, ports: [{ name: 'http', port: 8080 }], endpoints, metadata: {}, origin: 'nacos' });

  it('the bridge role plus optional-istio.yaml is enough to import, re-check and clean up', async () => {
    // RBAC bindings take effect asynchronously in the authorizer cache: retry the first call briefly.
    const sink = new KubernetesSink('k8s', client(e, e.server, granted), options(), 'it-istio-rbac');
    await must(e, 'POST', `/api/v1/namespaces/${ns}/services`, { metadata: { name: 'web', annotations: { 'isthmus.dev/accept-imports': 'true' } }, spec: { selector: { app: 'web' }, ports: [{ name: 'http', port: 80, targetPort: 8080 }] } });
    for (let i = 0; ; i++) {
      try {
        await sink.apply(snap('vm-only', [ep(1), ep(2)]));
        break;
      } catch (err) {
        if (i > 50 || !(err instanceof BridgeError) || err.code !== 'ISTHMUS_REGISTRY_AUTH') throw err;
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    const web = snap('web', [ep(3)]);
    const planned = sink.plan(await sink.read(web.ref), web, { split: { nacos: 50, k8s: 50 } });
    // The role lets the sink list pods: it found none labelled, rather than being refused the list.
    expect(planned.refusals?.map((r) => r.reason)).toEqual([expect.stringMatching(/^no running pod of Service /)]);
    await sink.execute(planned);
    expect(sink.plan(await sink.read(web.ref), web, { split: { nacos: 50, k8s: 50 } }).operations).toEqual([]);
    const refs = await sink.ownedRefs();
    expect(refs.map((r) => r.name).sort()).toEqual(['vm-only', 'web']);
    for (const ref of refs) await sink.remove(ref);
    expect(await sink.ownedRefs()).toEqual([]);
  });

  it('a role without list pods still writes the VirtualService: the pod share goes to the host, and the notice names RBAC', async () => {
    await must(e, 'POST', `/api/v1/namespaces/${ns}/services`, { metadata: { name: 'shop', annotations: { 'isthmus.dev/accept-imports': 'true' } }, spec: { selector: { app: 'shop' }, ports: [{ name: 'http', port: 80, targetPort: 8080 }] } });
    const sink = new KubernetesSink('k8s', client(e, e.server, noPods), options(), 'it-istio-rbac');
    const shop = snap('shop', [ep(5)]);
    let planned: ReturnType<KubernetesSink['plan']> | undefined;
    for (let i = 0; planned === undefined; i++) {
      try {
        planned = sink.plan(await sink.read(shop.ref), shop, { split: { nacos: 60, k8s: 40 } });
      } catch (err) {
        if (i > 50 || !(err instanceof BridgeError) || err.code !== 'ISTHMUS_REGISTRY_AUTH') throw err;
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    expect(planned.refusals?.map((r) => r.reason)).toEqual([expect.stringMatching(/^cannot tell whether pods of Service .*HTTP 403.*grant list pods/)]);
    await sink.execute(planned);
    const vs = await must(e, 'GET', `/apis/networking.istio.io/v1/namespaces/${ns}/virtualservices/shop-isthmus`);
    const host = `shop.${ns}.svc.cluster.local`;
    expect((vs['spec'] as { http: { route: unknown[] }[] }).http[0]?.route).toEqual([{ destination: { host, subset: 'vm' }, weight: 60 }, { destination: { host }, weight: 40 }]);
    await sink.remove(shop.ref);
  });

  it('without optional-istio.yaml the Istio mode is refused (ISTHMUS_REGISTRY_AUTH), nothing written', async () => {
    const sink = new KubernetesSink('k8s', client(e, e.server, bare), options(), 'it-istio-rbac');
    const err = await sink.apply(snap('refused', [ep(4)])).catch((x: unknown) => x);
    expect(err).toBeInstanceOf(BridgeError);
    expect((err as BridgeError).code).toBe('ISTHMUS_REGISTRY_AUTH');
    const left = await must(e, 'GET', `/apis/networking.istio.io/v1/namespaces/${ns}/workloadentries`);
    expect(left.items ?? []).toEqual([]);
  });
});

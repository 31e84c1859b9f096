// The generated deploy artefacts stay in sync with their sources, the chart renders with the
// real helm binary (defaults and the production example), its values schema enforces the
// bridge's config schema, deploy/rbac grants exactly what the chart grants, and every shutdown
// budget (Kubernetes grace period, systemd TimeoutStopSec) outlasts the bridge's own deadline.
// The ServiceMigration CRD ships generated and identical in deploy/crds/ and the chart's crds/.
// Needs no server: helm runs client-side only here (the API server checks are in dry-run.test.ts
// and crd.test.ts).
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import { promisify } from 'node:util';
import { Value } from '@sinclair/typebox/value';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { ADAPTER_KINDS } from '../../adapters/index.ts';
import { parseConfig } from '../../bridge/runtime/config/index.ts';
import { MigrationSpecSchema } from '../../bridge/runtime/config/migration-schema.ts';
import { DEFAULT_SHUTDOWN_DEADLINE_MS } from '../../bridge/runtime/shutdown.ts';
import { CHART_DIR, PLAIN_MANIFESTS, PLAIN_RELEASE, PRODUCTION_VALUES, helmLint, helmTemplate, parseObjects, plainManifestText, type KubeObject } from './chart.ts';
import { CRD_FILES, CRD_NAME, MIGRATION_EXAMPLE, crdText } from './crd.ts';
import { buildHelm } from './helm-binary.ts';
import { VALUES_SCHEMA_PATH, valuesSchemaText } from './values-schema.ts';

const read = (url: URL): string => readFileSync(url, 'utf8');
const byKind = (objects: KubeObject[], kind: string): KubeObject[] => objects.filter((o) => o.kind === kind);
const configMapData = (objects: KubeObject[]): string => (byKind(objects, 'ConfigMap')[0] as unknown as { data: Record<string, string> }).data['config.yaml']!;
const REGEN = 'stale: run `npm run deploy:generate` and commit the result';

let helm = '';
beforeAll(async () => {
  helm = await buildHelm();
});

describe('generated artefacts', () => {
  it('values.schema.json is the current config schema plus the chart settings', () => {
    expect(read(VALUES_SCHEMA_PATH), REGEN).toBe(valuesSchemaText());
  });

  it('deploy/kubernetes/isthmus.yaml is the chart rendered with default values', async () => {
    expect(read(PLAIN_MANIFESTS), REGEN).toBe(plainManifestText(await helmTemplate(helm, PLAIN_RELEASE)));
  });

  it('the ServiceMigration CRD in deploy/crds/ and the chart\'s crds/ is the current migration schema', () => {
    expect(CRD_FILES.map((f) => f.pathname)).toEqual([
      expect.stringMatching(/\/deploy\/crds\/servicemigrations\.isthmus\.dev\.yaml$/),
      expect.stringMatching(/\/deploy\/helm\/isthmus\/crds\/servicemigrations\.isthmus\.dev\.yaml$/),
    ]);
    for (const file of CRD_FILES) expect(read(file), `${file.pathname}: ${REGEN}`).toBe(crdText());
  });
});

describe('ServiceMigration example', () => {
  it('is a valid spec for the bridge: a 90/10 split for shop/orders while shifting', () => {
    const [example] = parseObjects(read(MIGRATION_EXAMPLE));
    expect(example).toMatchObject({ apiVersion: 'isthmus.dev/v1alpha1', kind: 'ServiceMigration', metadata: { name: 'orders', namespace: 'shop' } });
    const spec = example!['spec'];
    expect([...Value.Errors(MigrationSpecSchema, spec)].map((e) => `${e.path} ${e.message}`)).toEqual([]);
    expect(spec).toEqual({ service: 'shop/orders', split: { vm: 90, k8s: 10 }, phase: 'shifting' });
  });
});

describe('helm chart', () => {
  it('passes helm lint --strict with default and production values', async () => {
    expect(await helmLint(helm)).toContain('0 chart(s) failed');
    expect(await helmLint(helm, [PRODUCTION_VALUES])).toContain('0 chart(s) failed');
  });

  it('ships the CRD in crds/: rendered with --include-crds, before the templates, and by helm show crds', async () => {
    const helmEnv = { ...process.env, HELM_CACHE_HOME: '/tmp/isthmus-helm/cache', HELM_CONFIG_HOME: '/tmp/isthmus-helm/config', HELM_DATA_HOME: '/tmp/isthmus-helm/data' };
    const exec = async (args: string[]) => (await promisify(execFile)(helm, args, { env: helmEnv, maxBuffer: 16 * 1024 * 1024 })).stdout;
    const rendered = parseObjects(await exec(['template', 'isthmus', CHART_DIR, '--namespace', 'isthmus-system', '--include-crds', ...(PLAIN_RELEASE.setJson ?? []).flatMap((v) => ['--set-json', v])]));
    expect(rendered[0]).toMatchObject({ kind: 'CustomResourceDefinition', metadata: { name: CRD_NAME } });
    expect(byKind(rendered, 'CustomResourceDefinition')).toHaveLength(1);
    expect(byKind(rendered, 'Deployment')).toHaveLength(1);
    // Helm copies crds/ verbatim (no templating): what it installs is the generated file.
    expect(parseObjects(await exec(['show', 'crds', CHART_DIR]))).toEqual(parseObjects(crdText()));
  });

  it('renders with default values: 2 replicas, probes, grace period, least-privilege RBAC', async () => {
    const objects = parseObjects(await helmTemplate(helm, PLAIN_RELEASE));
    expect(objects.map((o) => o.kind).sort()).toEqual(
      ['ClusterRole', 'ClusterRoleBinding', 'ConfigMap', 'Deployment', 'NetworkPolicy', 'PodDisruptionBudget', 'Role', 'RoleBinding', 'Service', 'ServiceAccount'],
    );
    const deployment = byKind(objects, 'Deployment')[0] as unknown as DeploymentShape;
    expect(deployment.spec.replicas).toBe(2);
    const pod = deployment.spec.template.spec;
    const c = pod.containers[0]!;
    expect(c.readinessProbe.httpGet.path).toBe('/readyz');
    expect(c.livenessProbe.httpGet.path).toBe('/livez');
    expect(pod.securityContext.runAsNonRoot).toBe(true);
    expect(c.resources.requests).toBeDefined();
    expect(c.resources.limits).toBeDefined();
    const config = parseAllDocuments((byKind(objects, 'ConfigMap')[0] as unknown as { data: Record<string, string> }).data['config.yaml']!)[0]!.toJSON() as {
      resolver: { http: { host: string; port: number } };
    };
    // Probes reach the Pod IP, so the chart must not leave the resolver on loopback.
    expect(config.resolver.http).toEqual({ host: '0.0.0.0', port: 8080 });
  });

  it('caps the V8 heap at heapPercentOfMemoryLimit of the memory limit, unless env sets NODE_OPTIONS', async () => {
    const nodeOptions = async (setJson: string[]): Promise<string | undefined> => {
      const objects = parseObjects(await helmTemplate(helm, { ...PLAIN_RELEASE, setJson }));
      const c = (byKind(objects, 'Deployment')[0] as unknown as { spec: { template: { spec: { containers: { env?: { name: string; value?: string }[] }[] } } } }).spec.template.spec.containers[0]!;
      const found = (c.env ?? []).filter((e) => e.name === 'NODE_OPTIONS');
      expect(found.length).toBeLessThanOrEqual(1);
      return found[0]?.value;
    };
    // The default 512Mi limit is below the image's 1024 MiB cap: V8 would grow into an OOM kill.
    expect(await nodeOptions([])).toBe('--max-semi-space-size=1 --max-old-space-size=384');
    expect(await nodeOptions(['resources={"limits":{"memory":"2Gi"}}', 'heapPercentOfMemoryLimit=50'])).toBe('--max-semi-space-size=1 --max-old-space-size=1024');
    // A limit we cannot read leaves the image's default; the user's own NODE_OPTIONS wins.
    expect(await nodeOptions(['resources={"limits":{"memory":"1.5Gi"}}'])).toBeUndefined();
    expect(await nodeOptions(['env=[{"name":"NODE_OPTIONS","value":"--max-old-space-size=700"}]'])).toBe('--max-old-space-size=700');
  });

  it('renders the production example: namespaced RoleBindings, secret mount, ServiceMonitor, PrometheusRule, NetworkPolicy', async () => {
    const objects = parseObjects(await helmTemplate(helm, { ...PLAIN_RELEASE, valuesFiles: [PRODUCTION_VALUES] }));
    expect(byKind(objects, 'ClusterRoleBinding')).toEqual([]);
    expect(byKind(objects, 'RoleBinding').map((b) => b.metadata.namespace).sort()).toEqual(['isthmus-system', 'payments', 'shop']);
    expect(byKind(objects, 'ServiceMonitor')).toHaveLength(1);
    expect(byKind(objects, 'PrometheusRule').map((r) => r.metadata.labels?.['release'])).toEqual(['kube-prometheus-stack']);
    expect(byKind(objects, 'NetworkPolicy')).toHaveLength(1);
    const pod = (byKind(objects, 'Deployment')[0] as unknown as DeploymentShape).spec.template.spec;
    expect(pod.volumes.map((v) => v.name)).toContain('secret-consul-token');
  });

  it('generates a resolver token into a Secret by default, mounts it and points the config at it', async () => {
    const render = async () => parseObjects(await helmTemplate(helm, { release: 'isthmus', namespace: 'isthmus-system' }));
    const objects = await render();
    const secret = byKind(objects, 'Secret')[0] as unknown as { metadata: { name: string }; data: { token: string } };
    expect(secret.metadata.name).toBe('isthmus-resolver-token');
    const token = Buffer.from(secret.data.token, 'base64').toString();
    expect(token).toMatch(/^[A-Za-z0-9]{48}$/);
    // Random without a cluster to look the current one up in (helm template); an upgrade reuses it.
    const again = byKind(await render(), 'Secret')[0] as unknown as { data: { token: string } };
    expect(again.data.token).not.toBe(secret.data.token);
    const pod = (byKind(objects, 'Deployment')[0] as unknown as DeploymentShape).spec.template.spec;
    expect(pod.volumes.find((v) => v.name === 'resolver-token')).toMatchObject({ secret: { secretName: 'isthmus-resolver-token', items: [{ key: 'token', path: 'token' }] } });
    expect(pod.containers[0]!.volumeMounts).toContainEqual({ name: 'resolver-token', mountPath: '/var/run/secrets/isthmus/resolver', readOnly: true });
    const config = parseAllDocuments(configMapData(objects))[0]!.toJSON() as { resolver: { auth?: { tokenFile: string } } };
    expect(config.resolver.auth).toEqual({ tokenFile: '/var/run/secrets/isthmus/resolver/token' });

    const existing = parseObjects(await helmTemplate(helm, PLAIN_RELEASE));
    expect(byKind(existing, 'Secret')).toEqual([]);
    const existingPod = (byKind(existing, 'Deployment')[0] as unknown as DeploymentShape).spec.template.spec;
    expect(existingPod.volumes.find((v) => v.name === 'resolver-token')).toMatchObject({ secret: { secretName: 'isthmus-resolver-token' } });

    const none = parseObjects(await helmTemplate(helm, { ...PLAIN_RELEASE, setJson: ['resolverToken.generate=false'] }));
    expect(byKind(none, 'Secret')).toEqual([]);
    expect((parseAllDocuments(configMapData(none))[0]!.toJSON() as { resolver: { auth?: unknown } }).resolver.auth).toBeUndefined();
  });

  it('admits to the resolver exactly the NetworkPolicy peers the values list, none when empty', async () => {
    const policyOf = async (setJson: string[]) =>
      byKind(parseObjects(await helmTemplate(helm, { ...PLAIN_RELEASE, setJson })), 'NetworkPolicy')[0] as unknown as { spec: { ingress: { from: unknown[] }[] } };
    const byDefault = await policyOf([]);
    expect(byDefault.spec.ingress).toHaveLength(1);
    expect(byDefault.spec.ingress[0]!.from).toEqual([
      { podSelector: {} },
      { namespaceSelector: { matchLabels: { 'isthmus.dev/resolver-clients': 'true' } } },
    ]);
    // A rule without `from` would admit everyone; an empty list must admit no one.
    expect((await policyOf(['networkPolicy.ingressFrom=[]'])).spec.ingress).toEqual([]);
    const one = await policyOf(['networkPolicy.ingressFrom=[{"ipBlock":{"cidr":"10.9.0.0/16"}}]']);
    expect(one.spec.ingress[0]!.from).toEqual([{ ipBlock: { cidr: '10.9.0.0/16' } }]);
  });

  it('refuses, through values.schema.json, a config the bridge would refuse', async () => {
    const bad = helmTemplate(helm, { ...PLAIN_RELEASE, setJson: ['config.bridge.id="Not_Valid"'] });
    await expect(bad).rejects.toThrow(/values don't meet the specifications of the schema|pattern/);
    const unknownKind = helmTemplate(helm, { ...PLAIN_RELEASE, setJson: ['config.registries.x={"kind":"etcd"}'] });
    await expect(unknownKind).rejects.toThrow(/schema/);
  });

  it('grants the Istio kinds only when a kubernetes sink enables the Istio mode, in the bridge role\'s scope', async () => {
    const istioRoles = (objects: KubeObject[]) => objects.filter((o) => o.metadata.name.endsWith('-istio')).map((o) => `${o.kind}/${o.metadata.namespace ?? ''}`).sort();
    expect(istioRoles(parseObjects(await helmTemplate(helm, PLAIN_RELEASE)))).toEqual([]);
    const on = parseObjects(await helmTemplate(helm, { ...PLAIN_RELEASE, setJson: ['config.registries.k8s.sink={"istio":{"enabled":true}}'] }));
    expect(istioRoles(on)).toEqual(['ClusterRole/', 'ClusterRoleBinding/']);
    const scoped = parseObjects(await helmTemplate(helm, { ...PLAIN_RELEASE, setJson: ['config.registries.k8s.sink={"istio":{"enabled":true}}', 'config.registries.k8s.namespaces=["shop"]'] }));
    expect(istioRoles(scoped)).toEqual(['ClusterRole/', 'RoleBinding/shop']);
  });

  it('grants PeerAuthentication reads only with the mTLS preflight, in the bridge role\'s scope plus the root namespace', async () => {
    const mtlsRoles = (objects: KubeObject[]) => objects.filter((o) => o.metadata.name.endsWith('-istio-mtls')).map((o) => `${o.kind}/${o.metadata.namespace ?? ''}`).sort();
    expect(mtlsRoles(parseObjects(await helmTemplate(helm, PLAIN_RELEASE)))).toEqual([]);
    expect(mtlsRoles(parseObjects(await helmTemplate(helm, { ...PLAIN_RELEASE, setJson: ['config.registries.k8s.sink={"istio":{"enabled":true}}'] })))).toEqual([]);
    const on = parseObjects(await helmTemplate(helm, { ...PLAIN_RELEASE, setJson: ['config.registries.k8s.source={"istio":{"mtlsPreflight":true}}'] }));
    expect(mtlsRoles(on)).toEqual(['ClusterRole/', 'ClusterRoleBinding/']);
    const scoped = parseObjects(await helmTemplate(helm, { ...PLAIN_RELEASE, setJson: ['config.registries.k8s.source={"istio":{"mtlsPreflight":true,"rootNamespace":"mesh-root"}}', 'config.registries.k8s.namespaces=["shop"]'] }));
    expect(mtlsRoles(scoped)).toEqual(['ClusterRole/', 'RoleBinding/mesh-root', 'RoleBinding/shop']);
  });

  it('grants WorkloadEntry reads only with source.istio.workloadEntries, in the bridge role\'s scope', async () => {
    const weRoles = (objects: KubeObject[]) => objects.filter((o) => o.metadata.name.endsWith('-istio-workloadentries')).map((o) => `${o.kind}/${o.metadata.namespace ?? ''}`).sort();
    expect(weRoles(parseObjects(await helmTemplate(helm, PLAIN_RELEASE)))).toEqual([]);
    expect(weRoles(parseObjects(await helmTemplate(helm, { ...PLAIN_RELEASE, setJson: ['config.registries.k8s.source={"istio":{"mtlsPreflight":true}}'] })))).toEqual([]);
    const on = parseObjects(await helmTemplate(helm, { ...PLAIN_RELEASE, setJson: ['config.registries.k8s.source={"istio":{"workloadEntries":true}}'] }));
    expect(weRoles(on)).toEqual(['ClusterRole/', 'ClusterRoleBinding/']);
    const scoped = parseObjects(await helmTemplate(helm, { ...PLAIN_RELEASE, setJson: ['config.registries.k8s.source={"istio":{"workloadEntries":true}}', 'config.registries.k8s.namespaces=["shop","pay"]'] }));
    expect(weRoles(scoped)).toEqual(['ClusterRole/', 'RoleBinding/pay', 'RoleBinding/shop']);
  });

  it('refuses two replicas without leader election', async () => {
    const render = helmTemplate(helm, { ...PLAIN_RELEASE, setJson: ['config.registries.k8s.leaderElection.enabled=false'] });
    await expect(render).rejects.toThrow(/needs leader election/);
  });

  it('grants exactly the rules of deploy/rbac (one source of truth, checked here)', async () => {
    const objects = parseObjects(await helmTemplate(helm, {
      ...PLAIN_RELEASE,
      setJson: ['config.registries.k8s.sink={"createNamespaces":true,"istio":{"enabled":true}}', 'config.registries.k8s.source={"addressMode":"nodePort","istio":{"mtlsPreflight":true,"workloadEntries":true}}'],
    }));
    const dir = new URL('../../deploy/rbac/', import.meta.url);
    const shipped = (await readdir(dir)).filter((f) => f.endsWith('.yaml')).flatMap((f) => parseObjects(read(new URL(f, dir))));
    const strip = (o: KubeObject) => ({ kind: o.kind, name: o.metadata.name, namespace: o.metadata.namespace, rules: o['rules'], roleRef: o['roleRef'], subjects: o['subjects'] });
    const rbacKinds = new Set(['ServiceAccount', 'ClusterRole', 'ClusterRoleBinding', 'Role', 'RoleBinding']);
    const sort = (list: ReturnType<typeof strip>[]) => list.sort((a, b) => `${a.kind}/${a.name}`.localeCompare(`${b.kind}/${b.name}`));
    expect(sort(shipped.map(strip))).toEqual(sort(objects.filter((o) => rbacKinds.has(o.kind)).map(strip)));
    // The ServiceMigration rules in particular: read and write the objects, patch their status;
    // never update or delete what operators own.
    const bridgeRole = shipped.find((o) => o.kind === 'ClusterRole' && o.metadata.name === 'isthmus-bridge')!;
    const rules = bridgeRole['rules'] as { apiGroups: string[]; resources: string[]; verbs: string[] }[];
    const migrationRules = rules.filter((r) => r.apiGroups.includes('isthmus.dev'));
    expect(migrationRules).toEqual([
      { apiGroups: ['isthmus.dev'], resources: ['servicemigrations'], verbs: ['get', 'list', 'watch', 'create', 'patch'] },
      { apiGroups: ['isthmus.dev'], resources: ['servicemigrations/status'], verbs: ['get', 'patch'] },
    ]);
  });
});

describe('shipped configs load in the bridge', () => {
  const configMapText = (objects: KubeObject[]) => (byKind(objects, 'ConfigMap')[0] as unknown as { data: Record<string, string> }).data['config.yaml']!;

  it('the ConfigMap the chart renders, with default and production values', async () => {
    for (const valuesFiles of [[], [PRODUCTION_VALUES]]) {
      const text = configMapText(parseObjects(await helmTemplate(helm, { ...PLAIN_RELEASE, valuesFiles })));
      expect(parseConfig(text, ADAPTER_KINDS, { env: {} }).registries['k8s']?.kind).toBe('kubernetes');
    }
  });

  it('the VM daemon example', () => {
    const config = parseConfig(read(new URL('../../deploy/vm/config.yaml', import.meta.url)), ADAPTER_KINDS, { env: {} });
    expect(config.routes.length).toBe(2);
  });
});

describe('shutdown budgets', () => {
  const deadlineSeconds = DEFAULT_SHUTDOWN_DEADLINE_MS / 1000;

  it('the Pod grace period covers preStop plus the bridge deadline', async () => {
    const pod = (byKind(parseObjects(await helmTemplate(helm, PLAIN_RELEASE)), 'Deployment')[0] as unknown as DeploymentShape).spec.template.spec;
    const preStop = pod.containers[0]!.lifecycle.preStop.exec.command.join(' ');
    const preStopSeconds = Number(/setTimeout\(\(\) => \{\}, (\d+)\)/.exec(preStop)?.[1]) / 1000;
    expect(preStopSeconds).toBeGreaterThan(0);
    expect(pod.terminationGracePeriodSeconds).toBeGreaterThan(preStopSeconds + deadlineSeconds);
  });

  it('systemd waits longer than the bridge deadline and restarts on failure only', () => {
    const unit = read(new URL('../../deploy/systemd/isthmus.service', import.meta.url));
    const setting = (key: string) => new RegExp(`^${key}=(.*)$`, 'm').exec(unit)?.[1];
    expect(Number(setting('TimeoutStopSec'))).toBeGreaterThan(deadlineSeconds);
    expect(setting('Restart')).toBe('on-failure');
    expect(setting('User')).toBe('isthmus');
    expect(setting('ExecStart')).toContain('--config /etc/isthmus/config.yaml');
    expect(setting('KillSignal')).toBe('SIGTERM');
  });
});

interface DeploymentShape {
  spec: {
    replicas: number;
    template: {
      spec: {
        terminationGracePeriodSeconds: number;
        securityContext: { runAsNonRoot: boolean };
        volumes: { name: string }[];
        containers: {
          volumeMounts: { name: string; mountPath: string; readOnly?: boolean }[];
          readinessProbe: { httpGet: { path: string } };
          livenessProbe: { httpGet: { path: string } };
          resources: { requests?: unknown; limits?: unknown };
          lifecycle: { preStop: { exec: { command: string[] } } };
        }[];
      };
    };
  };
}

// etcd + kube-apiserver, both built from the Go module proxy. No controller-manager: tests create
// EndpointSlices themselves, and TokenRequest is served by the apiserver alone (see README).
import { generateKeyPairSync } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { KubernetesConnection } from '../connections.ts';
import type { ServerDefinition } from '../definition.ts';
import { type GoBinarySpec, buildGoBinary, goBinaryPath } from '../go-build.ts';
import { httpGet } from '../http-get.ts';
import { LOOPBACK, port } from '../ports.ts';
import { spawnDetached } from '../processes.ts';
import { waitReady } from '../readiness.ts';
import { ETCD_VERSION, KUBERNETES_VERSION } from '../versions.ts';

const ADMIN_TOKEN = 'isthmus-it-admin-token';
const SA_ISSUER = 'https://kubernetes.default.svc.cluster.local';

function versionLdflags(): string[] {
  const [major, minor] = KUBERNETES_VERSION.replace(/^v/, '').split('.');
  // Without these the server reports v0.0.0-master, which breaks version checks in clients and
  // the apiserver's own compatibility-version logic.
  return [
    `-X k8s.io/component-base/version.gitVersion=${KUBERNETES_VERSION}`,
    `-X k8s.io/component-base/version.gitMajor=${major ?? ''}`,
    `-X k8s.io/component-base/version.gitMinor=${minor ?? ''}`,
    '-X k8s.io/component-base/version.gitTreeState=clean',
    `-X k8s.io/client-go/pkg/version.gitVersion=${KUBERNETES_VERSION}`,
  ];
}

const apiserverSpec: GoBinarySpec = {
  server: 'kubernetes',
  tool: 'kube-apiserver',
  module: 'k8s',
  pkg: 'k8s.io/kubernetes/cmd/kube-apiserver',
  version: KUBERNETES_VERSION,
  ldflags: versionLdflags(),
};

const etcdSpec: GoBinarySpec = {
  server: 'kubernetes',
  tool: 'etcd',
  module: 'etcd',
  pkg: 'go.etcd.io/etcd/server/v3',
  version: ETCD_VERSION,
};

function etcdUrl(): string {
  return `http://${LOOPBACK}:${port('ETCD_CLIENT')}`;
}

function kubeconfig(conn: KubernetesConnection): string {
  // JSON is valid YAML, and keeps us from hand-writing YAML.
  return `${JSON.stringify(
    {
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: 'isthmus', cluster: { server: conn.server, 'certificate-authority': conn.caFile } }],
      users: [{ name: 'isthmus-admin', user: { token: conn.token } }],
      contexts: [{ name: 'isthmus', context: { cluster: 'isthmus', user: 'isthmus-admin' } }],
      'current-context': 'isthmus',
    },
    null,
    2,
  )}\n`;
}

async function probe(conn: KubernetesConnection): Promise<boolean> {
  if (!existsSync(conn.caFile)) return false;
  const reply = await httpGet(`${conn.server}/readyz`, {
    ca: await readFile(conn.caFile, 'utf8'),
    headers: { Authorization: `Bearer ${conn.token}` },
  });
  return reply.status === 200 && reply.body.trim() === 'ok';
}

export const kubernetes: ServerDefinition<'kubernetes'> = {
  name: 'kubernetes',
  summary: `kube-apiserver ${KUBERNETES_VERSION} + etcd ${ETCD_VERSION} (built from the Go module proxy)`,
  version: () => Promise.resolve(`${KUBERNETES_VERSION} (etcd ${ETCD_VERSION})`),
  ports: () => [port('ETCD_CLIENT'), port('ETCD_PEER'), port('APISERVER')],
  isProvisioned: async () => existsSync(await goBinaryPath(etcdSpec)) && existsSync(await goBinaryPath(apiserverSpec)),
  provision: async (onProgress) => {
    await buildGoBinary(etcdSpec, onProgress);
    await buildGoBinary(apiserverSpec, onProgress);
  },
  connection: (runDir) => {
    const server = `https://${LOOPBACK}:${port('APISERVER')}`;
    return Promise.resolve({
      version: KUBERNETES_VERSION,
      server,
      token: ADMIN_TOKEN,
      caFile: join(runDir, 'pki', 'apiserver.crt'),
      kubeconfigPath: join(runDir, 'kubeconfig.yaml'),
      etcdUrl: etcdUrl(),
      serviceAccountIssuer: SA_ISSUER,
    });
  },
  probe,
  address: async (runDir) => {
    const conn = await kubernetes.connection(runDir);
    return `${conn.server} (etcd ${conn.etcdUrl}, kubeconfig ${conn.kubeconfigPath})`;
  },
  start: async (ctx) => {
    const etcdBin = await buildGoBinary(etcdSpec, ctx.onProgress);
    const apiserverBin = await buildGoBinary(apiserverSpec, ctx.onProgress);
    const pki = join(ctx.runDir, 'pki');
    await mkdir(pki, { recursive: true });
    await mkdir(join(ctx.runDir, 'logs'), { recursive: true });

    const peer = `http://${LOOPBACK}:${port('ETCD_PEER')}`;
    const etcd = spawnDetached({
      role: 'etcd',
      command: etcdBin,
      args: [
        '--name=isthmus',
        `--data-dir=${join(ctx.runDir, 'etcd')}`,
        `--listen-client-urls=${etcdUrl()}`,
        `--advertise-client-urls=${etcdUrl()}`,
        `--listen-peer-urls=${peer}`,
        `--initial-advertise-peer-urls=${peer}`,
        `--initial-cluster=isthmus=${peer}`,
        // Throwaway test data: durability only costs time.
        '--unsafe-no-fsync',
        '--log-level=warn',
      ],
      cwd: ctx.runDir,
      logPath: join(ctx.runDir, 'logs', 'etcd.log'),
    });
    await ctx.track(etcd);
    await waitReady({
      server: 'kubernetes',
      what: 'etcd',
      proc: etcd,
      timeoutMs: 60_000,
      onProgress: ctx.onProgress,
      probe: async () => {
        const reply = await httpGet(`${etcdUrl()}/health`);
        return reply.status === 200 && reply.body.includes('"health":"true"');
      },
    });

    // One RSA key both signs (private half) and verifies (public half) ServiceAccount tokens.
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    await writeFile(join(pki, 'sa.key'), privateKey.export({ type: 'pkcs1', format: 'pem' }), { mode: 0o600 });
    await writeFile(join(pki, 'sa.pub'), publicKey.export({ type: 'spki', format: 'pem' }));
    const tokens = join(ctx.runDir, 'tokens.csv');
    await writeFile(tokens, `${ADMIN_TOKEN},isthmus-admin,isthmus-admin-uid,"system:masters"\n`, { mode: 0o600 });

    const conn = await kubernetes.connection(ctx.runDir);
    const apiserver = spawnDetached({
      role: 'kube-apiserver',
      command: apiserverBin,
      args: [
        `--etcd-servers=${etcdUrl()}`,
        `--bind-address=${LOOPBACK}`,
        // Keeps the apiserver from looking up a default route (offline machines have none).
        `--advertise-address=${LOOPBACK}`,
        `--secure-port=${port('APISERVER')}`,
        // No cert files given: the apiserver writes a self-signed apiserver.crt/.key here.
        `--cert-dir=${pki}`,
        '--service-cluster-ip-range=10.0.0.0/24',
        `--service-account-issuer=${SA_ISSUER}`,
        `--service-account-signing-key-file=${join(pki, 'sa.key')}`,
        `--service-account-key-file=${join(pki, 'sa.pub')}`,
        `--token-auth-file=${tokens}`,
        '--authorization-mode=RBAC',
        // No controller-manager runs, so no "default" ServiceAccount appears in new namespaces;
        // this admission plugin would then reject every Pod.
        '--disable-admission-plugins=ServiceAccount',
        '--enable-priority-and-fairness=false',
        '--allow-privileged=true',
        '--v=1',
      ],
      cwd: ctx.runDir,
      logPath: join(ctx.runDir, 'logs', 'kube-apiserver.log'),
    });
    await ctx.track(apiserver);
    await writeFile(conn.kubeconfigPath, kubeconfig(conn));
    await waitReady({
      server: 'kubernetes',
      what: 'kube-apiserver',
      proc: apiserver,
      timeoutMs: 120_000,
      onProgress: ctx.onProgress,
      probe: () => probe(conn),
    });
  },
};

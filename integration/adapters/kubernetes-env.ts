// Shared plumbing for the Kubernetes integration tests: where the real kube-apiserver is, a raw
// admin REST helper (tests create "native" objects the way controllers and users would, without
// going through the adapter), a TCP proxy to cut and restore a client's connection, and cleanup.
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { request } from 'node:https';
import { inject } from 'vitest';
import { MIGRATION_GROUP, MIGRATION_PLURAL, MIGRATION_VERSION } from '../../bridge/runtime/config/migration-schema.ts';
import type {} from '../servers/provided-context.ts';

export interface KubeTestEnv {
  readonly server: string;
  readonly token: string;
  readonly caFile: string;
}

/** ISTHMUS_K8S_SERVER/TOKEN/CA override the harness (e.g. a hand-started apiserver). */
export function kubeEnv(): KubeTestEnv | undefined {
  const { ISTHMUS_K8S_SERVER: server, ISTHMUS_K8S_TOKEN: token, ISTHMUS_K8S_CA: caFile } = process.env;
  if (server !== undefined && token !== undefined && caFile !== undefined) return { server, token, caFile };
  let conn;
  try {
    conn = inject('isthmusServers').kubernetes;
  } catch {
    conn = undefined;
  }
  return conn === undefined ? undefined : { server: conn.server, token: conn.token, caFile: conn.caFile };
}

/** A kubeconfig (JSON is YAML) that reaches the harness apiserver as its admin, for a bridge started as a process. */
export function adminKubeconfig(e: KubeTestEnv): string {
  return JSON.stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'it', cluster: { server: e.server, 'certificate-authority': e.caFile } }],
    users: [{ name: 'admin', user: { token: e.token } }],
    contexts: [{ name: 'it', context: { cluster: 'it', user: 'admin' } }],
    'current-context': 'it',
  });
}

export interface ApiReply {
  readonly status: number;
  readonly body: Record<string, unknown> & { items?: Record<string, unknown>[]; metadata?: { resourceVersion?: string; name?: string } };
}

/** Raw REST call as cluster admin (or with `token`). */
export function api(env: KubeTestEnv, method: string, path: string, body?: unknown, token = env.token, contentType = 'application/json'): Promise<ApiReply> {
  const url = new URL(path, env.server);
  return new Promise((resolve, reject) => {
    const req = request(url, { method, ca: readFileSync(env.caFile), headers: { Authorization: `Bearer ${token}`, 'Content-Type': contentType, Accept: 'application/json' } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let parsed: ApiReply['body'] = {};
        try {
          parsed = JSON.parse(text) as ApiReply['body'];
        } catch {
          parsed = { text };
        }
        resolve({ status: res.statusCode ?? 0, body: parsed });
      });
    });
    req.on('error', reject);
    if (body !== undefined) req.write(JSON.stringify(body));
    req.end();
  });
}

/** Like api() but throws unless the status is 2xx (or listed in `ok`). */
export async function must(env: KubeTestEnv, method: string, path: string, body?: unknown, ok: number[] = []): Promise<ApiReply['body']> {
  const reply = await api(env, method, path, body);
  if ((reply.status < 200 || reply.status >= 300) && !ok.includes(reply.status)) {
    throw new Error(`${method} ${path} → ${reply.status}: ${JSON.stringify(reply.body).slice(0, 400)}`);
  }
  return reply.body;
}

export function unique(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${randomBytes(2).toString('hex')}`;
}

/** A namespace labelled as test data, so `cleanupTestNamespaces` can find it later. */
export async function testNamespace(env: KubeTestEnv, prefix: string): Promise<string> {
  const name = unique(prefix);
  await must(env, 'POST', '/api/v1/namespaces', { metadata: { name, labels: { 'isthmus.dev/test': 'true' } } });
  return name;
}

/**
 * Deletes Services and EndpointSlices in test namespaces. The harness runs no controller-manager,
 * so deleted namespaces are never emptied and leftover ClusterIP Services would exhaust the small
 * service CIDR across runs.
 */
export async function cleanupNamespace(env: KubeTestEnv, ns: string): Promise<void> {
  const svcs = await must(env, 'GET', `/api/v1/namespaces/${ns}/services`);
  await Promise.all((svcs.items ?? []).map((s) => api(env, 'DELETE', `/api/v1/namespaces/${ns}/services/${(s.metadata as { name: string }).name}`)));
  await api(env, 'DELETE', `/apis/discovery.k8s.io/v1/namespaces/${ns}/endpointslices`);
  // The test apiserver runs no namespace controller, so a deleted namespace keeps its objects:
  // ServiceMigrations left behind would name registries every later bridge (and bench) lacks.
  await api(env, 'DELETE', `/apis/${MIGRATION_GROUP}/${MIGRATION_VERSION}/namespaces/${ns}/${MIGRATION_PLURAL}`);
}

export async function cleanupTestNamespaces(env: KubeTestEnv): Promise<void> {
  const list = await must(env, 'GET', '/api/v1/namespaces?labelSelector=isthmus.dev%2Ftest%3Dtrue');
  for (const ns of list.items ?? []) await cleanupNamespace(env, (ns.metadata as { name: string }).name);
}

export { TcpProxy } from './tcp-proxy.ts';

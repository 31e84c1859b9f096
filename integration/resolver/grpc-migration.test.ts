// The SDK's grpc-js resolver follows a split declared in a ServiceMigration object: a real
// grpc-js client on isthmus:///orders.<ns> calls real grpc-js servers of two origins through a
// running bridge (runBridge) whose Kubernetes registry, on the real kube-apiserver, hosts the
// objects. The split is applied the way kubectl does, then changed with `isthmus weight`, and
// the observed share of calls is measured each time.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { ADAPTER_KINDS } from '../../adapters/index.ts';
import { memoryAdapter, MemoryRegistry, MemorySource } from '../../adapters/memory/index.ts';
import { runBridge } from '../../bridge/app/index.ts';
import { runCli } from '../../bridge/cli/run-cli.ts';
import { captureIo, fakeDeps } from '../../bridge/cli/testing.ts';
import type { Endpoint, RegistryId, ServiceRef } from '../../bridge/model/index.ts';
import type { AdapterKind } from '../../bridge/ports/index.ts';
import { createLogger, parseConfig } from '../../bridge/runtime/index.ts';
import { GrpcTransport, registerIsthmusResolver } from '../../sdk/index.ts';
import { startEcho, tally, until, whoClient, type EchoServer } from '../../sdk/testing/echo.ts';
import { api, kubeEnv, must, testNamespace, type KubeTestEnv } from '../adapters/kubernetes-env.ts';
import { ensureMigrationCrd, migrationsPath } from '../deploy/crd.ts';
import type { ServerConnections } from '../servers/connections.ts';
import type {} from '../servers/provided-context.ts';

const TOKEN = 'grpc-migration-token';
const CALLS = 4_000;
const harness: ServerConnections = (() => {
  try {
    return inject('isthmusServers');
  } catch {
    return {};
  }
})();
const kube = kubeEnv();

/** A memory registry kind the test fills itself (one per origin). */
function memoryKind(registry: MemoryRegistry): AdapterKind {
  return { ...memoryAdapter, kind: 'memory', create: (_o, ctx) => ({ source: new MemorySource(ctx.registryId, registry), close: () => Promise.resolve() }) };
}

function endpointOf(origin: RegistryId, s: EchoServer): Endpoint {
  return { address: '127.0.0.1', ports: { grpc: s.port }, ready: true, serving: true, terminating: false, weight: 100, metadata: {}, origin: { registry: origin, nativeId: s.name } };
}

const share = (counts: Map<string, number>, prefix: string): number =>
  (100 * [...counts].filter(([k]) => k.startsWith(prefix)).reduce((a, [, v]) => a + v, 0)) / [...counts.values()].reduce((a, v) => a + v, 0);

describe.skipIf(kube === undefined || harness.kubernetes === undefined)('SDK grpc-js resolver follows a ServiceMigration', () => {
  const e = kube as KubeTestEnv;
  const vm = new MemoryRegistry();
  const pods = new MemoryRegistry();
  const stop = new AbortController();
  const echoes: EchoServer[] = [];
  let ns = '';
  let ref: ServiceRef = { namespace: '', name: 'orders' };
  let dir = '';
  let tokenFile = '';
  let httpUrl = '';
  let bridge: Promise<void> | undefined;
  let transport: GrpcTransport | undefined;
  let client: ReturnType<typeof whoClient> | undefined;

  beforeAll(async () => {
    await ensureMigrationCrd(e);
    ns = await testNamespace(e, 'sdkmig');
    ref = { namespace: ns, name: 'orders' };
    dir = mkdtempSync(join(tmpdir(), 'isthmus-sdkmig-'));
    tokenFile = join(dir, 'token');
    writeFileSync(tokenFile, `${TOKEN}\n`);
    const kinds = { ...ADAPTER_KINDS, 'memory-vm': memoryKind(vm), 'memory-pods': memoryKind(pods) };
    // The Kubernetes registry is here to host the objects; its source exports nothing.
    const config = parseConfig(`
bridge: { id: sdkmig }
registries:
  vm: { kind: memory-vm }
  pods: { kind: memory-pods }
  k8s: { kind: kubernetes, connection: { kubeconfig: "${harness.kubernetes!.kubeconfigPath}" }, source: { services: ["isthmus-test-none"] } }
resolver:
  http: { host: 127.0.0.1, port: 0 }
  grpc: { host: 127.0.0.1, port: 0 }
  auth: { tokenFile: "${tokenFile}" }
log: { level: warn }
`, kinds);
    let grpcPort = 0;
    httpUrl = await new Promise<string>((resolve) => {
      bridge = runBridge(config, kinds, { logger: createLogger({ level: 'warn' }), signal: stop.signal, onListening: resolve, onGrpcListening: (p) => { grpcPort = p; } });
    });
    await until(() => grpcPort > 0, 10_000, 'the gRPC resolver');
    transport = new GrpcTransport({ address: `127.0.0.1:${grpcPort}`, token: TOKEN });
    registerIsthmusResolver({ transport });
    for (const [registry, origin, name] of [[vm, 'vm', 'vm-1'], [pods, 'pods', 'pod-1']] as const) {
      const s = await startEcho(name);
      echoes.push(s);
      registry.putEndpoint(ref, endpointOf(origin, s));
    }
    await until(async () => (await transport!.resolve(ref))?.endpoints.length === 2, 20_000, 'both origins in the catalog');
    client = whoClient(`isthmus:///orders.${ns}`);
  }, 120_000);

  afterAll(async () => {
    client?.close();
    transport?.close();
    stop.abort();
    await bridge;
    for (const s of echoes) await s.stop();
    if (ns !== '') await api(e, 'DELETE', `/api/v1/namespaces/${ns}`);
    rmSync(dir, { recursive: true, force: true });
  });

  it('splits calls as a ServiceMigration applied with kubectl says, then as `isthmus weight` rewrites it', { timeout: 120_000 }, async () => {
    const c = client!;
    await must(e, 'POST', migrationsPath(ns), { apiVersion: 'isthmus.dev/v1alpha1', kind: 'ServiceMigration', metadata: { name: 'orders' }, spec: { split: { vm: 90, pods: 10 } } });
    await until(async () => Math.abs(share(await tally(c, 200, 10), 'vm-') - 90) <= 8, 15_000, 'calls to follow 90/10');
    const first = share(await tally(c, CALLS), 'vm-');

    const cap = captureIo({ env: { ISTHMUS_URL: httpUrl } });
    expect(await runCli(['weight', `${ns}/orders`, 'vm=20', 'pods=80', '--token-file', tokenFile], fakeDeps(), cap.io)).toBe(0);
    expect(cap.out()).toContain(`stored in ServiceMigration ${ns}/orders`);
    const obj = await must(e, 'GET', `${migrationsPath(ns)}/orders`) as { spec: { split: Record<string, number> } };
    expect(obj.spec.split).toEqual({ vm: 20, pods: 80 });
    await until(async () => Math.abs(share(await tally(c, 200, 10), 'vm-') - 20) <= 8, 15_000, 'calls to follow 20/80');
    const second = share(await tally(c, CALLS), 'vm-');
    console.info(JSON.stringify({ figure: 'sdk-grpc-share-by-servicemigration', calls: CALLS, steps: [{ declaredVm: 90, observedVm: first }, { declaredVm: 20, observedVm: second }] }));
    expect(Math.abs(first - 90)).toBeLessThanOrEqual(3);
    expect(Math.abs(second - 20)).toBeLessThanOrEqual(3);

    // Deleting the object returns to the registries' own weights: 50/50 here.
    await must(e, 'DELETE', `${migrationsPath(ns)}/orders`);
    await until(async () => Math.abs(share(await tally(c, 400, 10), 'vm-') - 50) <= 10, 15_000, 'calls back to 50/50');
  });
});

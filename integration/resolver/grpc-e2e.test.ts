// End to end through the real wiring (runBridge): a real grpc-js client on isthmus:///orders.shop
// calls real grpc-js servers found in two origins, the harness's real Consul ("vm") and an
// in-memory registry ("pods"), follows adds and removals, fails over when an origin empties,
// and honours migration weights set in config and changed at run time with `isthmus weight`.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADAPTER_KINDS } from '../../adapters/index.ts';
import { memoryAdapter, MemoryRegistry, MemorySource } from '../../adapters/memory/index.ts';
import { runBridge } from '../../bridge/app/index.ts';
import { runCli } from '../../bridge/cli/run-cli.ts';
import { captureIo, fakeDeps } from '../../bridge/cli/testing.ts';
import { endpointKey, type Endpoint } from '../../bridge/model/index.ts';
import type { AdapterKind } from '../../bridge/ports/index.ts';
import { createLogger, parseConfig } from '../../bridge/runtime/index.ts';
import { GrpcTransport, registerIsthmusResolver } from '../../sdk/index.ts';
import { startEcho, tally, until, whoClient, type EchoServer } from '../../sdk/testing/echo.ts';
import { consulApi, runId, sharedConsulUrl } from '../adapters/consul-support.ts';

const ORDERS = { namespace: 'shop', name: 'orders' };
const TOKEN = 'e2e-resolver-token';
const run = runId();
const node = `e2e-resolver-${run}`;
const pods = new MemoryRegistry();
const stop = new AbortController();
const servers = new Map<string, EchoServer>();
const clients: { close(): void }[] = [];
let consul = '';
let httpUrl = '';
let grpcPort = 0;
let transport: GrpcTransport;
let bridge: Promise<void> | undefined;
let tokenFile = '';

// The pods registry is the test's own MemoryRegistry, so the test can add and remove pods.
const podsKind: AdapterKind = {
  ...memoryAdapter,
  create: (_options, ctx) => ({ source: new MemorySource(ctx.registryId, pods), close: () => Promise.resolve() }),
};

function pod(s: EchoServer): Endpoint {
  return {
    address: '127.0.0.1',
    ports: { grpc: s.port },
    ready: true,
    serving: true,
    terminating: false,
    weight: 100,
    metadata: {},
    origin: { registry: 'pods', nativeId: s.name },
  };
}

async function vmUp(s: EchoServer): Promise<void> {
  await consulApi(consul, 'PUT', '/v1/catalog/register', {
    Node: node,
    Address: '127.0.0.1',
    Service: { ID: s.name, Service: 'orders', Address: '127.0.0.1', Port: s.port, Meta: { run } },
    Checks: [{ CheckID: `check-${s.name}`, Name: 'alive', Status: 'passing', ServiceID: s.name }],
  });
}

async function vmDown(s: EchoServer): Promise<void> {
  await consulApi(consul, 'PUT', '/v1/catalog/deregister', { Node: node, ServiceID: s.name });
}

async function server(name: string): Promise<EchoServer> {
  const s = await startEcho(name);
  servers.set(name, s);
  return s;
}

function client(): ReturnType<typeof whoClient> {
  const c = whoClient('isthmus:///orders.shop');
  clients.push(c);
  return c;
}

const share = (counts: Map<string, number>, prefix: string, n: number): number =>
  (100 * [...counts].filter(([k]) => k.startsWith(prefix)).reduce((a, [, v]) => a + v, 0)) / n;

beforeAll(async () => {
  consul = await sharedConsulUrl();
  tokenFile = join(mkdtempSync(join(tmpdir(), 'isthmus-e2e-')), 'token');
  writeFileSync(tokenFile, `${TOKEN}\n`);
  const kinds = { ...ADAPTER_KINDS, memory: podsKind };
  const config = parseConfig(
    `
bridge: { id: e2e-${run} }
registries:
  vm: { kind: consul, address: "${consul}", namespace: shop, portName: grpc, services: [orders], meta: { run: "${run}" }, minWatchIntervalMs: 0 }
  pods: { kind: memory }
resolver:
  http: { host: 127.0.0.1, port: 0 }
  grpc: { host: 127.0.0.1, port: 0 }
  auth: { tokenFile: "${tokenFile}" }
weights:
  shop/orders: { vm: 90, pods: 10 }
log: { level: warn }
`,
    kinds,
  );
  const listening = Promise.all([
    new Promise<string>((resolve) => { bridge = runBridge(config, kinds, { logger: createLogger({ level: 'warn' }), signal: stop.signal, onListening: resolve, onGrpcListening: (p) => { grpcPort = p; } }); }),
  ]);
  [httpUrl] = await listening;
  await until(() => grpcPort > 0, 10_000, 'the gRPC resolver');
  transport = new GrpcTransport({ address: `127.0.0.1:${grpcPort}`, token: TOKEN });
  registerIsthmusResolver({ transport });
  await vmUp(await server('vm-1'));
  pods.putEndpoint(ORDERS, pod(await server('pod-1')));
  await until(async () => (await transport.resolve(ORDERS))?.endpoints.length === 2, 20_000, 'both origins in the catalog');
});

afterAll(async () => {
  for (const c of clients) c.close();
  transport.close();
  stop.abort();
  await bridge;
  for (const s of servers.values()) {
    await vmDown(s).catch(() => undefined);
    await s.stop();
  }
});

describe('grpc-js client on isthmus:///orders.shop through a running bridge', () => {
  it('refuses calls without the token (401 / UNAUTHENTICATED) while health and metrics answer', async () => {
    const http = await fetch(`${httpUrl}/v1/services/shop/orders`);
    expect(http.status).toBe(401);
    expect(await http.json()).toMatchObject({ code: 'ISTHMUS_UNAUTHENTICATED' });
    expect((await fetch(`${httpUrl}/livez`)).status).toBe(200);
    expect((await fetch(`${httpUrl}/metrics`)).status).toBe(200);
    const anonymous = new GrpcTransport({ address: `127.0.0.1:${grpcPort}` });
    await expect(anonymous.resolve(ORDERS)).rejects.toMatchObject({ code: 'ISTHMUS_UNAUTHENTICATED' });
    anonymous.close();
  });

  it('splits 10,000 calls 90/10 by the configured weights, then 50/50 within a second of `isthmus weight`', { timeout: 120_000 }, async () => {
    const c = client();
    const counts = await tally(c, 10_000);
    const vm = share(counts, 'vm-', 10_000);
    console.info(`observed split over 10,000 calls: vm ${vm.toFixed(2)} %, pods ${(100 - vm).toFixed(2)} %`);
    expect(Math.abs(vm - 90)).toBeLessThanOrEqual(2);

    const cap = captureIo({ env: { ISTHMUS_URL: httpUrl } });
    const started = Date.now();
    const code = await runCli(['weight', 'shop/orders', 'vm=50', 'pods=50', '--token-file', tokenFile], fakeDeps(), cap.io);
    // No Kubernetes registry here: the split can only live in this bridge's memory, and it says so.
    expect(cap.err()).toBe('warning: kept in this bridge\'s memory only: other replicas do not see it and a restart forgets it (no Kubernetes registry is configured)\n');
    expect(code).toBe(0);
    expect(cap.out()).toContain('shop/orders: vm=50 pods=50 (this bridge\'s memory only)');
    await until(async () => Math.abs(share(await tally(c, 100, 10), 'vm-', 100) - 50) <= 12, 10_000, 'calls to follow 50/50');
    const tookMs = Date.now() - started;
    console.info(`runtime change to 50/50 reached calls after ${tookMs} ms`);
    expect(tookMs).toBeLessThan(3_000);
    const after = await tally(c, 4_000);
    expect(Math.abs(share(after, 'vm-', 4_000) - 50)).toBeLessThanOrEqual(3);
    const status = await (await fetch(`${httpUrl}/v1/status`, { headers: { authorization: `Bearer ${TOKEN}` } })).json() as { weights: unknown };
    expect(status.weights).toEqual({ 'shop/orders': { vm: 50, pods: 50 } });
  });

  it('follows servers added and removed in both origins without restarting the client', { timeout: 120_000 }, async () => {
    const c = client();
    await vmUp(await server('vm-2'));
    pods.putEndpoint(ORDERS, pod(await server('pod-2')));
    await until(async () => {
      const t = await tally(c, 200, 10);
      if (process.env['E2E_DEBUG'] !== undefined) console.info('follow', [...t]);
      return t.has('vm-2') && t.has('pod-2');
    }, 30_000, 'new servers to get calls');
    await vmDown(servers.get('vm-1')!);
    pods.deleteEndpoint(ORDERS, endpointKey(pod(servers.get('pod-1')!)));
    await until(async () => { const t = await tally(c, 200, 10); return !t.has('vm-1') && !t.has('pod-1'); }, 30_000, 'removed servers to stop getting calls');
    expect([...(await tally(c, 400)).keys()].sort()).toEqual(['pod-2', 'vm-2']);
  });

  it('fails over to the other origin when one empties, and back when it returns', { timeout: 120_000 }, async () => {
    const c = client();
    await vmDown(servers.get('vm-2')!);
    await until(async () => [...(await tally(c, 200, 10)).keys()].every((k) => k.startsWith('pod-')), 30_000, 'all calls on pods');
    const onlyPods = await tally(c, 1_000);
    expect([...onlyPods.keys()]).toEqual(['pod-2']);
    await vmUp(servers.get('vm-2')!);
    await until(async () => (await tally(c, 200, 10)).has('vm-2'), 30_000, 'calls back on the VM');
    pods.deleteEndpoint(ORDERS, endpointKey(pod(servers.get('pod-2')!)));
    await until(async () => [...(await tally(c, 200, 10)).keys()].every((k) => k.startsWith('vm-')), 30_000, 'all calls on VMs');
  });
});

// Consul with ACLs (default deny) on a private agent: a token holding only the policy the bridge
// needs syncs both ways; a wrong token is reported as ISTHMUS_REGISTRY_AUTH in status and logs,
// and nothing is deleted on either side.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { Value } from '@sinclair/typebox/value';
import type { Endpoint } from '../../bridge/model/index.ts';
import { DEFAULT_POLICY } from '../../bridge/model/index.ts';
import { Engine } from '../../bridge/sync/index.ts';
import type { EngineLogger } from '../../bridge/sync/logger-port.ts';
import { ConsulOptions, createConsul } from '../../adapters/consul/index.ts';
import { MemoryRegistry, MemorySink, MemorySource } from '../../adapters/memory/index.ts';
import { PrivateConsul, consulApi } from './consul-support.ts';

const BRIDGE = 'acl-bridge';
// Read everything, write only our nodes (the configured one and its shards) and the services we
// export (prefix exp-).
const RULES = `
node "isthmus-${BRIDGE}" { policy = "write" }
node_prefix "isthmus-${BRIDGE}_" { policy = "write" }
node_prefix "" { policy = "read" }
service_prefix "" { policy = "read" }
service_prefix "exp-" { policy = "write" }
`;

interface Logged { level: string; obj: object; msg: string }
function captureLogger(into: Logged[]): EngineLogger {
  const log = (level: string) => (obj: object, msg: string): void => { into.push({ level, obj, msg }); };
  return { debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error') };
}

const ep = (i: number): Endpoint => ({
  address: `10.50.0.${i}`,
  ports: { http: 8080 },
  ready: true,
  serving: true,
  terminating: false,
  weight: 100,
  metadata: {},
  origin: { registry: 'k8s', nativeId: `e${i}` },
});

describe('consul with ACLs', () => {
  const consul = new PrivateConsul({ acl: true });
  const engines: Engine[] = [];
  const aborts: AbortController[] = [];
  let dir = '';

  afterAll(async () => {
    await Promise.all(engines.map((e) => e.stop()));
    for (const a of aborts) a.abort();
    await consul.stop();
    if (dir !== '') await rm(dir, { recursive: true, force: true });
  });

  async function bridge(tokenFile: string, vm: MemoryRegistry, target: MemoryRegistry, logs: Logged[]): Promise<{ engine: Engine; source: ReturnType<typeof createConsul>['source'] }> {
    const abort = new AbortController();
    aborts.push(abort);
    const logger = captureLogger(logs);
    const opts = Value.Default(ConsulOptions, { address: consul.url, tokenFile, services: ['imp-*'], maxBackoffMs: 500 }) as ConsulOptions;
    const { source, sink } = createConsul(opts, { registryId: 'consul', bridgeId: BRIDGE, logger });
    const vmSource = new MemorySource('k8s', vm);
    await Promise.all([source.start(abort.signal), sink.start(abort.signal), vmSource.start(abort.signal)]);
    const engine = new Engine({
      bridgeId: BRIDGE,
      sources: [source, vmSource],
      sinks: [sink, new MemorySink('k8s', target, BRIDGE)],
      routes: [
        { id: 'consul->k8s', from: ['consul'], to: 'k8s', select: {}, map: {}, policy: DEFAULT_POLICY },
        { id: 'k8s->consul', from: ['k8s'], to: 'consul', select: { services: ['exp-*'] }, map: {}, policy: DEFAULT_POLICY },
      ],
      quietMs: 5,
      maxDelayMs: 50,
      logger,
    });
    engines.push(engine);
    engine.start();
    return { engine, source };
  }

  it('syncs both ways with a least-privilege token; a wrong token is ISTHMUS_REGISTRY_AUTH and deletes nothing', async () => {
    await consul.start();
    const mgmt = consul.managementToken;
    await consulApi(consul.url, 'PUT', '/v1/acl/policy', { Name: 'isthmus-bridge', Rules: RULES }, mgmt);
    const token = await consulApi<{ SecretID: string }>(consul.url, 'PUT', '/v1/acl/token', { Description: 'isthmus', Policies: [{ Name: 'isthmus-bridge' }] }, mgmt);
    dir = await mkdtemp(join(tmpdir(), 'isthmus-acl-'));
    const good = join(dir, 'good-token');
    const bad = join(dir, 'bad-token');
    await writeFile(good, `${token.SecretID}\n`);
    await writeFile(bad, '00000000-1111-2222-3333-444444444444\n');
    await consulApi(consul.url, 'PUT', '/v1/agent/service/register', { ID: 'imp-orders-1', Name: 'imp-orders', Address: '10.60.0.1', Port: 8080 }, mgmt);

    const vm = new MemoryRegistry();
    for (const i of [1, 2]) vm.putEndpoint({ namespace: 'default', name: 'exp-cart' }, ep(i));
    const target = new MemoryRegistry();
    const goodLogs: Logged[] = [];
    const ok = await bridge(good, vm, target, goodLogs);
    await ok.engine.whenIdle();
    await vi.waitFor(() => { expect(target.service({ namespace: 'default', name: 'imp-orders' })?.endpoints.size).toBe(1); }, { timeout: 30_000 });
    await vi.waitFor(async () => {
      expect(await consulApi<unknown[]>(consul.url, 'GET', '/v1/health/service/exp-cart?passing', undefined, mgmt)).toHaveLength(2);
    }, { timeout: 30_000 });
    expect(goodLogs.filter((l) => l.level === 'warn' || l.level === 'error')).toEqual([]);
    expect(JSON.stringify(goodLogs)).not.toContain(token.SecretID);
    await ok.engine.stop();

    const badLogs: Logged[] = [];
    const wrong = await bridge(bad, new MemoryRegistry(), target, badLogs);
    await vi.waitFor(() => {
      const status = wrong.engine.summary().sources.find((s) => s.id === 'consul');
      expect(status?.health.reachable).toBe(false);
      expect(status?.health.lastError).toContain('ISTHMUS_REGISTRY_AUTH');
      expect(badLogs.some((l) => l.level === 'error' && JSON.stringify(l.obj).includes('ISTHMUS_REGISTRY_AUTH'))).toBe(true);
      expect(badLogs.some((l) => l.msg.includes('sink stays closed') && JSON.stringify(l.obj).includes('ISTHMUS_REGISTRY_AUTH'))).toBe(true);
    }, { timeout: 30_000, interval: 100 });
    expect(wrong.source.hasSynced()).toBe(false);
    expect(JSON.stringify(badLogs)).not.toContain('00000000-1111-2222-3333-444444444444');
    // The wrong bridge has an empty Kubernetes side; it still deleted nothing anywhere.
    expect(target.service({ namespace: 'default', name: 'imp-orders' })?.endpoints.size).toBe(1);
    expect(await consulApi<unknown[]>(consul.url, 'GET', '/v1/health/service/exp-cart?passing', undefined, mgmt)).toHaveLength(2);
  });
});

// A service registered the way Spring Cloud Consul registers it (agent registration, id
// `<app>-<port>`, `secure`/`zone` Meta, HTTP check on /actuator/health) is imported into a
// target registry, and turns not ready there within one reconcile once its health check starts
// failing (health is state: it stays, marked down, and comes back ready).
import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { Value } from '@sinclair/typebox/value';
import { DEFAULT_POLICY } from '../../bridge/model/index.ts';
import { Engine } from '../../bridge/sync/index.ts';
import { SILENT_LOGGER } from '../../bridge/sync/logger-port.ts';
import { ConsulOptions, createConsul } from '../../adapters/consul/index.ts';
import { MemoryRegistry, MemorySink } from '../../adapters/memory/index.ts';
import { consulApi, runId, sharedConsulUrl } from './consul-support.ts';

interface App { server: Server; port: number; healthy: boolean; status?: number; id: string }

async function startApp(): Promise<App> {
  const app = { healthy: true } as App;
  app.server = createServer((req, res) => {
    const up = req.url === '/actuator/health' && app.healthy;
    // Consul's HTTP check: 2xx passing, 429 warning, anything else critical.
    res.writeHead(app.status ?? (up ? 200 : 503), { 'content-type': 'application/json' });
    res.end(JSON.stringify({ status: up ? 'UP' : 'DOWN' }));
  });
  await new Promise<void>((resolve) => app.server.listen(0, '127.0.0.1', () => { resolve(); }));
  const addr = app.server.address();
  app.port = typeof addr === 'object' && addr !== null ? addr.port : 0;
  return app;
}

describe('consul source: Spring Cloud Consul registrations', () => {
  const name = `spring-orders-${runId()}`;
  const apps: App[] = [];
  const abort = new AbortController();
  let base = '';
  let engine: Engine | undefined;

  beforeAll(async () => {
    base = await sharedConsulUrl();
    for (let i = 0; i < 3; i++) {
      const app = await startApp();
      app.id = `${name}-${app.port}`;
      apps.push(app);
      await consulApi(base, 'PUT', '/v1/agent/service/register', {
        ID: app.id,
        Name: name,
        Address: '127.0.0.1',
        Port: app.port,
        Tags: [],
        Meta: { secure: 'false', zone: 'zone-a' },
        Check: { HTTP: `http://127.0.0.1:${app.port}/actuator/health`, Interval: '1s', Timeout: '1s' },
      });
    }
    // Someone else's service in the same agent: must not be watched.
    await consulApi(base, 'PUT', '/v1/agent/service/register', { ID: `${name}-other`, Name: `other-${name}`, Port: 1 });
  });

  afterAll(async () => {
    await engine?.stop();
    abort.abort();
    for (const id of [...apps.map((a) => a.id), `${name}-other`]) await consulApi(base, 'PUT', `/v1/agent/service/deregister/${id}`);
    await Promise.all(apps.map((a) => new Promise((resolve) => a.server.close(resolve))));
  });

  it('imports the instances and marks one down within a reconcile of its check failing', async () => {
    const opts = Value.Default(ConsulOptions, { address: base, services: [name] }) as ConsulOptions;
    const { source } = createConsul(opts, { registryId: 'consul', bridgeId: 'spring-bridge', logger: SILENT_LOGGER });
    await source.start(abort.signal);
    const target = new MemoryRegistry();
    const sink = new MemorySink('k8s', target, 'spring-bridge');
    engine = new Engine({
      bridgeId: 'spring-bridge',
      sources: [source],
      sinks: [sink],
      routes: [{ id: 'consul->k8s', from: ['consul'], to: 'k8s', select: {}, map: {}, policy: DEFAULT_POLICY }],
      quietMs: 5,
      maxDelayMs: 50,
    });
    engine.start();
    const ref = { namespace: 'default', name };
    // Consul starts an HTTP check critical until its first run: wait for three ready instances.
    const readyCount = (): number => [...(target.service(ref)?.endpoints.values() ?? [])].filter((e) => e.endpoint.ready).length;
    await vi.waitFor(() => { expect(readyCount()).toBe(3); }, { timeout: 30_000, interval: 50 });
    expect(source.watchedServices()).toEqual([name]);
    const ep = [...target.service(ref)!.endpoints.values()][0]!.endpoint;
    expect(ep).toMatchObject({ address: '127.0.0.1', zone: 'zone-a', protocol: 'http', ready: true, weight: 100 });
    expect(ep.origin.nativeId).toMatch(new RegExp(`/${name}-\\d+$`));

    const ofPort = (port: number) => [...target.service(ref)!.endpoints.values()].find((e) => e.endpoint.ports['http'] === port)?.endpoint;
    const failing = apps[0]!;
    const started = Date.now();
    failing.healthy = false;
    await vi.waitFor(() => { expect(ofPort(failing.port)).toMatchObject({ ready: false, serving: false, terminating: false }); }, { timeout: 30_000, interval: 20 });
    const ms = Date.now() - started;
    expect(target.service(ref)?.endpoints.size).toBe(3);
    console.log(JSON.stringify({ figure: 'consul-check-failure-to-target-not-ready-ms', ms, checkInterval: '1s' }));
    // Consul runs the check every second; one blocking-query return and one reconcile follow.
    expect(ms).toBeLessThan(5000);
    failing.healthy = true;
    await vi.waitFor(() => { expect(ofPort(failing.port)).toMatchObject({ ready: true, serving: true }); }, { timeout: 30_000, interval: 50 });

    // warning (429 Too Many Requests) → draining by default: kept, but marked terminating.
    const busy = apps[1]!;
    busy.status = 429;
    await vi.waitFor(() => { expect(ofPort(busy.port)).toMatchObject({ ready: false, serving: true, terminating: true }); }, { timeout: 30_000, interval: 50 });
    delete busy.status;
    await vi.waitFor(() => { expect(ofPort(busy.port)).toMatchObject({ ready: true, terminating: false }); }, { timeout: 30_000, interval: 50 });
  });
});

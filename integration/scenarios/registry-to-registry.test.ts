// The nacos-sync use case, with no Kubernetes in the path: Spring Cloud providers registered in
// one registry are called by an unmodified Spring Cloud consumer that discovers through the
// other, Isthmus carrying instances and their health across. Real Consul, real Nacos, real
// Spring Cloud Consul and Spring Cloud Alibaba apps (integration/peers/spring); zero failed
// calls while a provider's health fails and recovers and while a provider leaves.
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Value } from '@sinclair/typebox/value';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ConsulOptions, createConsul } from '../../adapters/consul/index.ts';
import { createNacosSink, createNacosSource } from '../../adapters/nacos/index.ts';
import { DEFAULT_POLICY } from '../../bridge/model/index.ts';
import type { Sink, Source } from '../../bridge/ports/index.ts';
import { Engine } from '../../bridge/sync/index.ts';
import { removeOwned } from '../../bridge/ports/index.ts';
import { consulApi, sharedConsulUrl } from '../adapters/consul-support.ts';
import { NativeApp, adminList, adminSetEnabled, ctx, nacosOptions, sharedNacos } from '../adapters/nacos-support.ts';
import { parseCallLine, type CallRecord } from '../drill/record.ts';
import { ensureSpringPeersJar } from '../peers/spring/build.ts';
import { PeerJvm } from '../peers/spring/jvm.ts';
import { freePort } from '../drill/net.ts';

const WAIT = { timeout: 180_000, interval: 250 };
const BRIDGE = 'r2r-bridge';


/** Calls made after `since`, at least `n` of them, all answered by `instances`. */
function settledOn(calls: readonly CallRecord[], since: number, n: number, instances: readonly string[]): void {
  const recent = calls.filter((c) => c.t > since);
  expect(recent.length).toBeGreaterThanOrEqual(n);
  expect([...new Set(recent.map((c) => c.instance))].sort()).toEqual([...instances].sort());
}

/**
 * After a change at `changedAt`: no call reached anything but `instances` later than `boundMs`
 * after it (the bound the fixed "changedAt + bound" window used to imply), and since the last such
 * call and every instance's first call after the change, at least `n` calls, all answered by
 * `instances`. Settles as soon as the change has propagated instead of always waiting the bound.
 */
function settledAfter(calls: readonly CallRecord[], changedAt: number, boundMs: number, n: number, instances: readonly string[]): void {
  const after = calls.filter((c) => c.t > changedAt);
  const lastStray = Math.max(changedAt, ...after.filter((c) => c.instance === undefined || !instances.includes(c.instance)).map((c) => c.t));
  expect(lastStray - changedAt).toBeLessThanOrEqual(boundMs);
  const firstSeen = instances.map((i) => after.find((c) => c.instance === i)?.t ?? Number.POSITIVE_INFINITY);
  settledOn(calls, Math.max(lastStray, ...firstSeen), n, instances);
}

describe('registry to registry, no Kubernetes in the path', () => {
  const jvms: PeerJvm[] = [];
  const engines: Engine[] = [];
  const cleanups: (() => Promise<void>)[] = [];
  let abort = new AbortController();

  afterEach(async () => {
    await Promise.all(engines.splice(0).map((e) => e.stop()));
    // What the bridge exported into the shared Consul goes with the test (Nacos instances die with the connection).
    for (const c of cleanups.splice(0)) await c().catch(() => undefined);
    abort.abort();
    abort = new AbortController();
    await Promise.all(jvms.splice(0).map((j) => j.stop(15_000)));
  });

  async function bridge(source: Source, sink: Sink, from: string, to: string): Promise<Engine> {
    await source.start(abort.signal);
    await sink.start(abort.signal);
    const engine = new Engine({ bridgeId: BRIDGE, sources: [source], sinks: [sink], routes: [{ id: `${from}->${to}`, from: [from], to, select: {}, map: {}, policy: DEFAULT_POLICY }], quietMs: 5, maxDelayMs: 50 });
    engines.push(engine);
    engine.start();
    return engine;
  }

  async function provider(jar: string, discovery: 'consul' | 'nacos', instance: string, logs: string, props: Record<string, string | number>): Promise<{ jvm: PeerJvm; port: number }> {
    const port = await freePort('127.0.0.1');
    const jvm = await PeerJvm.start({ jar, role: 'provider', discovery, logPath: join(logs, `${instance}.log`), properties: { ...props, 'server.port': port, 'peer.instance': instance } });
    jvms.push(jvm);
    return { jvm, port };
  }

  async function setHealth(port: number, up: boolean): Promise<void> {
    const res = await fetch(`http://127.0.0.1:${port}/peer/health?up=${up}`, { method: 'POST' });
    expect(res.status).toBe(200);
  }

  it('Consul → Nacos: a Spring Cloud Alibaba consumer calls Spring Cloud Consul providers; health and departures carry across', async () => {
    const [{ jar }, consulUrl, nacos] = await Promise.all([ensureSpringPeersJar(), sharedConsulUrl(), sharedNacos()]);
    const service = `r2r-c2n-${randomBytes(3).toString('hex')}`;
    const logs = join(tmpdir(), `isthmus-${service}`);
    const consulProps = { 'peer.service': service, 'spring.cloud.consul.port': new URL(consulUrl).port };
    const [a, b] = await Promise.all([provider(jar, 'consul', 'vm-1', logs, consulProps), provider(jar, 'consul', 'vm-2', logs, consulProps)]);

    const { source } = createConsul(Value.Default(ConsulOptions, { address: consulUrl, services: [service] }) as ConsulOptions, ctx('consul', BRIDGE));
    const sink = createNacosSink(nacosOptions(nacos), ctx('nacos', BRIDGE));
    const engine = await bridge(source, sink, 'consul', 'nacos');
    // Callers start once both providers are exported and healthy: a consumer that starts first
    // gets "no servers available", which is its registry being empty, not a failed migration.
    const app = new NativeApp(nacos);
    try {
      await vi.waitFor(async () => { expect((await app.list({ namespace: 'default', name: service }, 0)).filter((i) => i.healthy !== false)).toHaveLength(2); }, WAIT);
    } finally {
      app.close();
    }

    const calls: CallRecord[] = [];
    const consumer = await PeerJvm.start({ jar, role: 'consumer', discovery: 'nacos', logPath: join(logs, 'consumer.log'), properties: { 'peer.service': `${service}-caller`, 'peer.target': service, 'spring.cloud.nacos.discovery.server-addr': `${nacos.host}:${nacos.httpPort}`, 'peer.rate': 20 } });
    jvms.push(consumer);
    consumer.onCall((line) => calls.push(parseCallLine(line)));
    await vi.waitFor(() => { settledOn(calls, 0, 40, ['vm-1', 'vm-2']); }, WAIT);

    // Health is state: vm-2's check turns critical in Consul → unhealthy in Nacos → no calls.
    await setHealth(b.port, false);
    const downAt = Date.now();
    await vi.waitFor(() => { settledAfter(calls, downAt, 5000, 40, ['vm-1']); }, WAIT);
    expect(engine.summary().held.filter((h) => h.ref.name === service)).toEqual([]);
    await setHealth(b.port, true);
    const upAt = Date.now();
    await vi.waitFor(() => { settledAfter(calls, upAt, 5000, 40, ['vm-1', 'vm-2']); }, WAIT);

    // vm-1 leaves the way Spring Cloud does (deregister, drain, stop): only vm-2 answers after.
    const stopped = a.jvm.stop(30_000);
    const leftAt = Date.now();
    await vi.waitFor(() => { settledAfter(calls, leftAt, 8000, 40, ['vm-2']); }, WAIT);
    await stopped;
    expect(calls.filter((c) => !c.ok)).toEqual([]);
    console.log(JSON.stringify({ figure: 'consul-to-nacos-spring-calls', calls: calls.length, failed: calls.filter((c) => !c.ok).length }));
  }, 600_000);

  it('Nacos → Consul: a Spring Cloud Consul consumer calls Spring Cloud Alibaba providers; an instance taken offline and departures carry across', async () => {
    const [{ jar }, consulUrl, nacos] = await Promise.all([ensureSpringPeersJar(), sharedConsulUrl(), sharedNacos()]);
    const service = `r2r-n2c-${randomBytes(3).toString('hex')}`;
    const logs = join(tmpdir(), `isthmus-${service}`);
    const nacosProps = { 'peer.service': service, 'spring.cloud.nacos.discovery.server-addr': `${nacos.host}:${nacos.httpPort}` };
    const [a] = await Promise.all([provider(jar, 'nacos', 'vm-1', logs, nacosProps), provider(jar, 'nacos', 'vm-2', logs, nacosProps)]);

    const source = createNacosSource(nacosOptions(nacos, { services: [service] }), ctx('nacos', BRIDGE));
    const { sink } = createConsul(Value.Default(ConsulOptions, { address: consulUrl, services: [] }) as ConsulOptions, ctx('consul', BRIDGE));
    const engine = await bridge(source, sink, 'nacos', 'consul');
    cleanups.push(async () => { await removeOwned(sink, { namespace: 'default', name: service }); });
    await vi.waitFor(async () => { expect(await consulApi<unknown[]>(consulUrl, 'GET', `/v1/health/service/${service}?passing`)).toHaveLength(2); }, WAIT);

    const calls: CallRecord[] = [];
    const consumer = await PeerJvm.start({ jar, role: 'consumer', discovery: 'consul', logPath: join(logs, 'consumer.log'), properties: { 'peer.service': `${service}-caller`, 'peer.target': service, 'spring.cloud.consul.port': new URL(consulUrl).port, 'peer.rate': 20 } });
    jvms.push(consumer);
    consumer.onCall((line) => calls.push(parseCallLine(line)));
    await vi.waitFor(() => { settledOn(calls, 0, 40, ['vm-1', 'vm-2']); }, WAIT);

    // An operator takes vm-1 offline in Nacos (enabled=false): draining, so its Consul check
    // leaves passing and the consumer (query-passing) stops calling it while it still serves.
    const ref = { namespace: 'default', name: service };
    const vm1 = (await adminList(nacos, ref)).find((i) => i.port === a.port);
    expect(vm1).toBeDefined();
    await adminSetEnabled(nacos, ref, vm1!, false);
    const offAt = Date.now();
    await vi.waitFor(() => { settledAfter(calls, offAt, 5000, 40, ['vm-2']); }, WAIT);
    await adminSetEnabled(nacos, ref, vm1!, true);
    const onAt = Date.now();
    await vi.waitFor(() => { settledAfter(calls, onAt, 5000, 40, ['vm-1', 'vm-2']); }, WAIT);

    const stopped = a.jvm.stop(30_000);
    const leftAt = Date.now();
    await vi.waitFor(() => { settledAfter(calls, leftAt, 8000, 40, ['vm-2']); }, WAIT);
    await stopped;
    // Only this service: a shared agent may hold an earlier run's export, which the bridge
    // rightly garbage-collects behind the shrink guard.
    expect(engine.summary().held.filter((h) => h.ref.name === service).map((h) => h.reason)).toEqual([]);
    expect(calls.filter((c) => !c.ok)).toEqual([]);
    console.log(JSON.stringify({ figure: 'nacos-to-consul-spring-calls', calls: calls.length, failed: calls.filter((c) => !c.ok).length }));
  }, 600_000);
});

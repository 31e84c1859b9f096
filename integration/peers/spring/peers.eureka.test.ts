// The Spring peers with Spring Cloud Netflix Eureka against the real Eureka server: providers
// register themselves (instance id, metadata), the consumer finds them by service name through the
// LoadBalancer's `weighted` configuration, and on SIGTERM a provider cancels its lease while it is
// still serving (EurekaDeregisterFirst), so the consumer moves to the other provider without one
// failed call.
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { randomBytes } from 'node:crypto';
import { afterAll, describe, expect, inject, it, vi } from 'vitest';
import type {} from '../../servers/provided-context.ts';
import { eurekaInstances } from '../../drill/eureka-view.ts';
import { freePort, getJson } from '../../drill/net.ts';
import { parseCallLine, type CallRecord } from '../../drill/record.ts';
import { ensureSpringPeersJar } from './build.ts';
import { PeerJvm } from './jvm.ts';

const eureka = inject('isthmusServers').eureka;
const WAIT = { timeout: 180_000, interval: 250 };

describe.skipIf(eureka === undefined)('Spring peers on Spring Cloud Netflix Eureka', () => {
  const jvms: PeerJvm[] = [];
  afterAll(async () => {
    await Promise.all(jvms.map((j) => j.stop(15_000)));
  });

  it('registers, is called by service name, and cancels its lease before it stops serving', async () => {
    const conn = eureka!;
    const { jar } = await ensureSpringPeersJar();
    const service = `spring-eureka-${randomBytes(3).toString('hex')}`;
    const logs = join(tmpdir(), `isthmus-${service}`);
    const eurekaProps = { 'eureka.client.service-url.defaultZone': `${conn.baseUrl}/`, 'peer.service': service };
    const ports = [await freePort('127.0.0.1'), await freePort('127.0.0.1')] as const;
    const providers = await Promise.all(ports.map((port, i) => PeerJvm.start({
      jar, role: 'provider', discovery: 'eureka', logPath: join(logs, `provider-${i + 1}.log`),
      properties: { ...eurekaProps, 'server.port': port, 'peer.instance': `vm-${i + 1}`, 'peer.drain-ms': 4000, 'eureka.instance.metadata-map.weight': 10 },
    })));
    jvms.push(...providers);
    const instances = () => eurekaInstances(conn.baseUrl, service);
    await vi.waitFor(async () => {
      expect(providers.every((p) => p.running)).toBe(true);
      const byId = (await instances()).sort((a, b) => String(a.instanceId).localeCompare(String(b.instanceId)));
      expect(byId).toMatchObject(ports.map((port, i) => ({
        instanceId: `vm-${i + 1}`, ipAddr: '127.0.0.1', status: 'UP', port: { $: port },
        metadata: { instance: `vm-${i + 1}`, side: 'vm', weight: '10' },
      })));
    }, WAIT);

    const calls: CallRecord[] = [];
    const consumer = await PeerJvm.start({
      jar, role: 'consumer', discovery: 'eureka', logPath: join(logs, 'consumer.log'),
      properties: { ...eurekaProps, 'peer.rate': 20, 'spring.cloud.loadbalancer.configurations': 'weighted' },
    });
    jvms.push(consumer);
    consumer.onCall((line) => calls.push(parseCallLine(line)));
    await vi.waitFor(() => {
      expect(consumer.running).toBe(true);
      expect(new Set(calls.filter((c) => c.ok).map((c) => c.instance))).toEqual(new Set(['vm-1', 'vm-2']));
    }, WAIT);
    // The consumer is a caller, not a service: it must not have registered itself.
    expect((await instances()).map((i) => i.instanceId).sort()).toEqual(['vm-1', 'vm-2']);

    const stopping = providers[0]!.stop(30_000);
    // What callers see (UP only): a heartbeat in flight as the lease is cancelled gets a 404 and
    // re-registers the instance, already DOWN, for one lease (seen once under load).
    const up = async (): Promise<(string | undefined)[]> => (await instances()).filter((i) => i.status === 'UP').map((i) => i.instanceId);
    await vi.waitFor(async () => { expect(await up()).toEqual(['vm-2']); }, { timeout: 10_000, interval: 50 });
    // Gone from Eureka, yet still answering: callers that have not caught up yet are not refused.
    expect((await getJson(`http://127.0.0.1:${ports[0]}/hello`)).body).toEqual({ instance: 'vm-1', side: 'vm' });
    const stopped = await stopping;
    expect(stopped.killed).toBe(false);
    expect(stopped.ms).toBeGreaterThanOrEqual(4000);
    const after = calls.length;
    await vi.waitFor(() => { expect(calls.length - after).toBeGreaterThanOrEqual(20); }, WAIT);
    expect(calls.filter((c) => !c.ok)).toEqual([]);
    expect(calls.slice(after).every((c) => c.instance === 'vm-2')).toBe(true);
  }, 600_000);
});

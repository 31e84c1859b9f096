// The Spring peers with Spring Cloud Alibaba Nacos discovery against the real Nacos server: the
// provider registers itself, the consumer finds it by service name through the LoadBalancer,
// and on SIGTERM the provider leaves Nacos while it is still serving (DeregisterFirst).
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { randomBytes } from 'node:crypto';
import { afterAll, describe, expect, inject, it, vi } from 'vitest';
import type {} from '../../servers/provided-context.ts';
import { freePort, getJson } from '../../drill/net.ts';
import { parseCallLine, type CallRecord } from '../../drill/record.ts';
import { ensureSpringPeersJar } from './build.ts';
import { PeerJvm } from './jvm.ts';

const nacos = inject('isthmusServers').nacos;
const WAIT = { timeout: 180_000, interval: 250 };

describe.skipIf(nacos === undefined)('Spring peers on Spring Cloud Alibaba Nacos discovery', () => {
  const jvms: PeerJvm[] = [];
  afterAll(async () => {
    await Promise.all(jvms.map((j) => j.stop(15_000)));
  });

  it('registers, is called by service name, and deregisters before it stops serving', async () => {
    const conn = nacos!;
    const { jar } = await ensureSpringPeersJar();
    const service = `spring-nacos-${randomBytes(3).toString('hex')}`;
    const logs = join(tmpdir(), `isthmus-${service}`);
    const port = await freePort('127.0.0.1');
    const nacosProps = { 'spring.cloud.nacos.discovery.server-addr': conn.serverAddr, 'peer.service': service };
    const provider = await PeerJvm.start({
      jar, role: 'provider', discovery: 'nacos', logPath: join(logs, 'provider.log'),
      properties: { ...nacosProps, 'server.port': port, 'peer.instance': 'vm-1', 'peer.drain-ms': 4000 },
    });
    jvms.push(provider);
    const hosts = async (): Promise<{ ip: string; port: number; healthy: boolean; metadata?: Record<string, string> }[]> => {
      const { body } = await getJson(`${conn.baseUrl}/v1/ns/instance/list?serviceName=${service}`);
      return (body as { hosts?: { ip: string; port: number; healthy: boolean; metadata?: Record<string, string> }[] }).hosts ?? [];
    };
    await vi.waitFor(async () => {
      expect(provider.running).toBe(true);
      expect(await hosts()).toMatchObject([{ ip: '127.0.0.1', port, healthy: true, metadata: { instance: 'vm-1', side: 'vm' } }]);
    }, WAIT);

    const calls: CallRecord[] = [];
    const consumer = await PeerJvm.start({ jar, role: 'consumer', discovery: 'nacos', logPath: join(logs, 'consumer.log'), properties: { ...nacosProps, 'peer.rate': 20 } });
    jvms.push(consumer);
    consumer.onCall((line) => calls.push(parseCallLine(line)));
    await vi.waitFor(() => {
      expect(consumer.running).toBe(true);
      expect(calls.filter((c) => c.ok).length).toBeGreaterThanOrEqual(20);
    }, WAIT);
    expect(calls.filter((c) => !c.ok)).toEqual([]);
    expect(calls.every((c) => c.instance === 'vm-1' && c.side === 'vm')).toBe(true);

    const stopping = provider.stop(30_000);
    await vi.waitFor(async () => { expect(await hosts()).toEqual([]); }, { timeout: 10_000, interval: 50 });
    // Gone from Nacos, yet still answering: callers that have not caught up yet are not refused.
    expect((await getJson(`http://127.0.0.1:${port}/hello`)).body).toEqual({ instance: 'vm-1', side: 'vm' });
    const stopped = await stopping;
    expect(stopped.killed).toBe(false);
    expect(stopped.ms).toBeGreaterThanOrEqual(4000);
  }, 600_000);
});

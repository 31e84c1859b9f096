// End to end with the real framework: a Spring Cloud Alibaba provider registers itself in the
// harness's Nacos (Java SDK, gRPC), Isthmus exports a "pod" into the same service, and an
// unmodified Spring Cloud Alibaba consumer, calling by service name through the LoadBalancer,
// reaches both sides with no failed call. Uses the Spring peers of integration/peers/spring.
import { createServer, type Server } from 'node:http';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { DEFAULT_POLICY } from '../../bridge/model/index.ts';
import { Engine } from '../../bridge/sync/index.ts';
import { MemoryRegistry, MemorySource } from '../../adapters/memory/index.ts';
import { createNacosSink } from '../../adapters/nacos/index.ts';
import { parseCallLine, type CallRecord } from '../drill/record.ts';
import { ensureSpringPeersJar } from '../peers/spring/build.ts';
import { PeerJvm } from '../peers/spring/jvm.ts';
import { NativeApp, ctx, nacosOptions, sharedNacos } from './nacos-support.ts';

const WAIT = { timeout: 180_000, interval: 250 };

async function podServer(): Promise<{ server: Server; port: number }> {
  const server = createServer((req, res) => {
    res.writeHead(req.url === '/hello' ? 200 : 404, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ instance: 'pod-1', side: 'pod' }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => { resolve(); }));
  const addr = server.address();
  return { server, port: typeof addr === 'object' && addr !== null ? addr.port : 0 };
}

describe('Spring Cloud Alibaba consumer calls a pod exported into Nacos', () => {
  const jvms: PeerJvm[] = [];
  const abort = new AbortController();
  const engines: Engine[] = [];
  let pod: Server | undefined;
  let app: NativeApp | undefined;

  afterAll(async () => {
    await Promise.all(engines.map((e) => e.stop()));
    abort.abort();
    app?.close();
    await Promise.all(jvms.map((j) => j.stop(15_000)));
    await new Promise<void>((resolve) => {
      if (pod === undefined) resolve();
      else pod.close(() => { resolve(); });
    });
  });

  it('reaches the VM provider and the exported pod by service name', async () => {
    const server = await sharedNacos();
    const { jar } = await ensureSpringPeersJar();
    const service = `sca-e2e-${randomBytes(3).toString('hex')}`;
    const ref = { namespace: 'default', name: service };
    const logs = join(tmpdir(), `isthmus-${service}`);
    const nacosProps = { 'spring.cloud.nacos.discovery.server-addr': `${server.host}:${server.httpPort}`, 'peer.service': service };

    const vmPort = await new Promise<number>((resolve) => {
      const s = createServer();
      s.listen(0, '127.0.0.1', () => { const a = s.address(); s.close(() => { resolve(typeof a === 'object' && a !== null ? a.port : 0); }); });
    });
    const provider = await PeerJvm.start({ jar, role: 'provider', discovery: 'nacos', logPath: join(logs, 'provider.log'), properties: { ...nacosProps, 'server.port': vmPort, 'peer.instance': 'vm-1' } });
    jvms.push(provider);
    app = new NativeApp(server);
    await vi.waitFor(async () => { expect((await app!.list(ref, 0)).map((i) => i.port)).toEqual([vmPort]); }, WAIT);
    const vmInstance = (await app.list(ref, 0))[0];
    expect(vmInstance?.metadata?.['preserved.register.source']).toBe('SPRING_CLOUD');

    const p = await podServer();
    pod = p.server;
    const pods = new MemoryRegistry();
    pods.putEndpoint(ref, { address: '127.0.0.1', ports: { http: p.port }, ready: true, serving: true, terminating: false, weight: 100, metadata: {}, origin: { registry: 'k8s', nativeId: 'shop/pod-1' } });
    const k8s = new MemorySource('k8s', pods);
    await k8s.start(abort.signal);
    const sink = createNacosSink(nacosOptions(server), ctx('nacos', 'sca-bridge'));
    await sink.start(abort.signal);
    const engine = new Engine({ bridgeId: 'sca-bridge', sources: [k8s], sinks: [sink], routes: [{ id: 'k8s->nacos', from: ['k8s'], to: 'nacos', select: {}, map: {}, policy: DEFAULT_POLICY }], quietMs: 5, maxDelayMs: 50 });
    engines.push(engine);
    engine.start();
    await vi.waitFor(async () => { expect((await app!.list(ref, 0)).length).toBe(2); }, WAIT);

    const calls: CallRecord[] = [];
    const consumer = await PeerJvm.start({ jar, role: 'consumer', discovery: 'nacos', logPath: join(logs, 'consumer.log'), properties: { ...nacosProps, 'peer.rate': 20 } });
    jvms.push(consumer);
    consumer.onCall((line) => calls.push(parseCallLine(line)));
    await vi.waitFor(() => {
      expect(calls.filter((c) => c.ok && c.side === 'pod').length).toBeGreaterThanOrEqual(10);
      expect(calls.filter((c) => c.ok && c.side === 'vm').length).toBeGreaterThanOrEqual(10);
    }, WAIT);
    expect(calls.filter((c) => !c.ok)).toEqual([]);

    // Draining the pod: enabled=false takes it out of the consumer's choice while it still serves.
    pods.putEndpoint(ref, { address: '127.0.0.1', ports: { http: p.port }, ready: false, serving: true, terminating: true, weight: 100, metadata: {}, origin: { registry: 'k8s', nativeId: 'shop/pod-1' } });
    const drainedAt = Date.now();
    await vi.waitFor(() => {
      const recent = calls.filter((c) => c.t > drainedAt + 5000);
      expect(recent.length).toBeGreaterThanOrEqual(20);
      expect(recent.every((c) => c.ok && c.side === 'vm')).toBe(true);
    }, WAIT);
    expect(calls.filter((c) => !c.ok)).toEqual([]);
  }, 600_000);
});

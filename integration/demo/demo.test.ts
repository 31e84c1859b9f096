// The README's first command against the real servers: `npm run demo` must show every VM
// endpoint imported into Kubernetes and every pod endpoint exported to each VM registry, and
// Ctrl-C must take back everything it put in place. Runs the demo as a user would (a child
// process through tsx), with the servers the global setup already brought up (so it stops none).
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { EUREKA_MARKERS } from '../../adapters/eureka/index.ts';
import { asArray, type EurekaApplications, type EurekaInstance } from '../../adapters/eureka/native.ts';
import type {} from '../servers/provided-context.ts';
import type { DemoConnections } from './config.ts';
import { Kube } from '../drill/kube.ts';
import { holdDemoTopology } from './exclusive.ts';
import { Observer } from './observe.ts';
import { DEMO_TAG, NAMESPACE, SERVICE_NAMES, TOPOLOGY } from './topology.ts';

const servers = inject('isthmusServers');
const ENTRY = new URL('./demo.ts', import.meta.url).pathname;
const ready = servers.kubernetes !== undefined && servers.consul !== undefined && servers.nacos !== undefined && servers.zookeeper !== undefined && servers.eureka !== undefined;
const ADDRESSES = new Set(TOPOLOGY.flatMap((s) => s.endpoints.map((e) => e.address)));

/**
 * The demo's instances on the shared Eureka (its VM app's and the bridge's exports), read
 * straight from /apps: other test files leave apps of the same names with other addresses.
 */
async function demoEurekaInstances(baseUrl: string): Promise<EurekaInstance[]> {
  const res = await fetch(`${baseUrl}/apps`, { headers: { accept: 'application/json' } });
  expect(res.status).toBe(200);
  const apps = asArray(((await res.json()) as { applications: EurekaApplications }).applications.application);
  const names = new Set(SERVICE_NAMES.map((n) => n.toUpperCase()));
  return apps
    .filter((a) => names.has((a.name ?? '').toUpperCase()))
    .flatMap((a) => asArray(a.instance))
    .filter((i) => ADDRESSES.has(i.ipAddr ?? '') || i.metadata?.[EUREKA_MARKERS.managedBy] === 'demo');
}

/** The last full frame the live demo drew (frames start with a clear-screen sequence). */
function lastFrame(out: string): string {
  return out.split('\u001b[2J\u001b[H').at(-1) ?? '';
}

function renewed(i: EurekaInstance): boolean {
  return (i.leaseInfo?.lastRenewalTimestamp ?? 0) > (i.leaseInfo?.registrationTimestamp ?? Infinity);
}

/**
 * The CATALOG instances once each shows a renewal, or as they are at the deadline. Read one by
 * one: /apps/{APP}/{id} comes from the registry itself, while /apps and /apps/{APP} come from a
 * response cache that renewals do not invalidate.
 */
async function waitForRenewals(baseUrl: string, ids: readonly string[], timeoutMs: number): Promise<EurekaInstance[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = await Promise.all(ids.map(async (id) => {
      const res = await fetch(`${baseUrl}/apps/CATALOG/${encodeURIComponent(id)}`, { headers: { accept: 'application/json' } });
      return res.ok ? [((await res.json()) as { instance: EurekaInstance }).instance] : [];
    }));
    const instances = found.flat();
    if ((instances.length === ids.length && instances.every(renewed)) || Date.now() > deadline) return instances;
    await new Promise((r) => setTimeout(r, 1000));
  }
}

describe('npm run demo', () => {
  let release: (() => Promise<void>) | undefined;
  beforeAll(async () => { if (ready) release = await holdDemoTopology(); }, 660_000);
  afterAll(async () => { await release?.(); });

  it.skipIf(!ready)('shows imported and exported endpoints in every registry, and Ctrl-C cleans up', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', ENTRY, '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => { out += c.toString('utf8'); });
    child.stderr.on('data', (c: Buffer) => { err += c.toString('utf8'); });
    const exited = new Promise<number | null>((resolve) => { child.on('exit', (code) => { resolve(code); }); });
    try {
      const deadline = Date.now() + 150_000;
      while (!lastFrame(out).includes('in sync') && Date.now() < deadline && child.exitCode === null) await new Promise((r) => setTimeout(r, 500));
      const frame = lastFrame(out);
      expect(frame, `demo never got in sync; stderr:\n${err}\nlast frame:\n${frame}`).toContain('in sync');
      expect(frame).not.toContain('(pending)');
      // VM endpoints: native in their own registry, imported into Kubernetes, served by the resolver.
      expect(frame).toMatch(/orders\s+192\.168\.10\.11:8080\s+VM\s+via isthmus\s+native\s+-\s+-\s+-\s+answers/);
      expect(frame).toMatch(/192\.168\.10\.12:8080\s+VM\s+via isthmus\s+native\s+-\s+-\s+-\s+answers/);
      expect(frame).toMatch(/payments\s+192\.168\.20\.21:8443\s+VM\s+via isthmus\s+-\s+native\s+-\s+-\s+answers/);
      expect(frame).toMatch(/inventory\s+192\.168\.30\.31:20880\s+VM\s+via isthmus\s+-\s+-\s+native\s+-\s+answers/);
      expect(frame).toMatch(/catalog\s+192\.168\.40\.41:8080\s+VM\s+via isthmus\s+-\s+-\s+-\s+native\s+answers/);
      expect(frame).toMatch(/192\.168\.40\.42:8080\s+VM\s+via isthmus\s+-\s+-\s+-\s+native\s+answers/);
      // Pod endpoints: native in Kubernetes, exported to all four VM registries.
      for (const pod of ['10\\.244\\.1\\.5:8080', '10\\.244\\.1\\.7:8080', '10\\.244\\.2\\.9:8080']) {
        expect(frame).toMatch(new RegExp(`${pod}\\s+pod\\s+native\\s+via isthmus\\s+via isthmus\\s+via isthmus\\s+via isthmus\\s+answers`));
      }
      // The VM app heartbeats as a Spring client does (every 30 s): the server has seen a renewal
      // of each lease. Eureka stamps a renewal one lease duration ahead, so it passes registration.
      const natives = await waitForRenewals(servers.eureka!.baseUrl, ['192.168.40.41:catalog:8080', '192.168.40.42:catalog:8080'], 45_000);
      expect(natives.map((i) => [i.instanceId, i.status, i.dataCenterInfo?.name, renewed(i)]).sort()).toEqual([
        ['192.168.40.41:catalog:8080', 'UP', 'MyOwn', true],
        ['192.168.40.42:catalog:8080', 'UP', 'MyOwn', true],
      ]);
    } finally {
      child.kill('SIGINT');
      const timer = setTimeout(() => { child.kill('SIGKILL'); }, 90_000);
      const code = await exited;
      clearTimeout(timer);
      expect(code, `stderr:\n${err}`).toBe(0);
    }
    expect(err).toContain('[demo] done');
    expect(err).not.toMatch(/failed:/);

    // Everything the demo and its bridge wrote is gone again.
    const consul = servers.consul!;
    const nodes = (await (await fetch(`${consul.httpUrl}/v1/catalog/nodes`)).json()) as { Node: string }[];
    expect(nodes.map((n) => n.Node)).not.toContain('isthmus-demo');
    for (const name of ['orders', 'cart']) {
      const entries = (await (await fetch(`${consul.httpUrl}/v1/health/service/${name}`)).json()) as { Service: { Tags: string[] | null; Address: string } }[];
      expect(entries.filter((e) => (e.Service.Tags ?? []).includes(DEMO_TAG) || /^(192\.168|10\.244)\./.test(e.Service.Address))).toEqual([]);
    }
    // Eureka leases would expire on their own, but only after ~3 lease durations: right after the
    // exit, nothing left proves the demo cancelled its own and the bridge's cleanup cancelled its exports.
    expect((await demoEurekaInstances(servers.eureka!.baseUrl)).map((i) => `${i.app ?? '?'} ${i.instanceId ?? '?'}`)).toEqual([]);
    const kube = new Kube(servers.kubernetes!);
    const services = await kube.must('GET', `/api/v1/namespaces/${NAMESPACE}/services`);
    expect((services['items'] as unknown[] | undefined) ?? []).toEqual([]);
    const slices = await kube.must('GET', `/apis/discovery.k8s.io/v1/namespaces/${NAMESPACE}/endpointslices`);
    expect((slices['items'] as unknown[] | undefined) ?? []).toEqual([]);
    // Nacos and ZooKeeper records are ephemeral; their sessions end with the demo, and the
    // servers notice within a few seconds (Nacos also caches query results briefly).
    const observer = new Observer(servers as DemoConnections, kube, 'http://127.0.0.1:1');
    try {
      let left: string[] = ['?'];
      for (let i = 0; i < 40 && left.length > 0; i++) {
        const obs = await observer.observe();
        left = (['nacos', 'dubbo'] as const).flatMap((col) => {
          const v = obs.get(col);
          return v instanceof Map ? [...v.entries()].flatMap(([name, eps]) => eps.map((ep) => `${col} ${name} ${ep}`)) : [`${col}: ${String(v)}`];
        });
        if (left.length > 0) await new Promise((r) => setTimeout(r, 500));
      }
      expect(left).toEqual([]);
    } finally {
      observer.close();
    }
  }, 300_000);
});

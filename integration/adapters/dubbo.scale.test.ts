// 10,000 generated provider znodes on the real ZooKeeper, a share of them malformed: the good ones
// import, each bad one is quarantined with its reason, nothing crashes.
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createDubbo, javaUrlEncode } from '../../adapters/dubbo/index.ts';
import { SILENT_LOGGER } from '../../bridge/sync/logger-port.ts';
import { ZkAdmin, dubboOptions, nativeProviderUrl, runId, sharedZooKeeper } from './dubbo-support.ts';

const INTERFACES = 100;
const PER_INTERFACE = 100;

type Kind = 'good' | 'encoding' | 'port' | 'protocol' | 'huge' | 'address';
const EXPECTED: Record<Exclude<Kind, 'good'>, RegExp> = {
  encoding: /^znode name is not valid URL encoding$/,
  port: /^URL has no port$/,
  protocol: /^unknown protocol "smtp"$/,
  huge: /^provider URL is \d+ characters \(limit 8192\)$/,
  address: /is not an IP address$/,
};

/** One in ten is malformed, cycling through the kinds; the rest are valid Dubbo 2.7 provider URLs. */
function generate(i: number, iface: string): { kind: Kind; name: string } {
  const host = `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;
  const kinds: Kind[] = ['encoding', 'port', 'protocol', 'huge', 'address'];
  const kind: Kind = i % 10 === 3 ? (kinds[Math.floor(i / 10) % kinds.length] ?? 'good') : 'good';
  const good = nativeProviderUrl(iface, host, 20880, { methods: 'greet', weight: '100' });
  switch (kind) {
    case 'good':
      return { kind, name: javaUrlEncode(good) };
    case 'encoding':
      return { kind, name: `${javaUrlEncode(good)}%E0%A4%A` };
    case 'port':
      return { kind, name: javaUrlEncode(good.replace(':20880/', '/')) };
    case 'protocol':
      return { kind, name: javaUrlEncode(good.replace('dubbo://', 'smtp://')) };
    case 'huge':
      return { kind, name: javaUrlEncode(`${good}&blob=${'x'.repeat(9000)}`) };
    case 'address':
      return { kind, name: javaUrlEncode(good.replace(host, `host-${i}.invalid`)) };
  }
}

describe('dubbo source at 10,000 znodes with malformed ones', () => {
  let zk: string;
  let admin: ZkAdmin;
  const root = `/scale-${runId()}`;
  const abort = new AbortController();
  const expected = new Map<string, number>();
  const bad = new Map<string, Kind>();

  beforeAll(async () => {
    zk = await sharedZooKeeper();
    admin = new ZkAdmin(zk);
    const started = Date.now();
    const jobs: { path: string }[] = [];
    for (let n = 0; n < INTERFACES; n++) {
      const iface = `com.example.scale.Service${n}`;
      for (let k = 0; k < PER_INTERFACE; k++) {
        const i = n * PER_INTERFACE + k;
        const { kind, name } = generate(i, iface);
        const path = `${root}/${javaUrlEncode(iface)}/providers/${name}`;
        if (kind === 'good') expected.set(iface, (expected.get(iface) ?? 0) + 1);
        else bad.set(name.slice(0, 512), kind);
        jobs.push({ path });
      }
    }
    await admin.create(`${root}/seed`, '');
    for (let i = 0; i < jobs.length; i += 500) await Promise.all(jobs.slice(i, i + 500).map((j) => admin.create(j.path, '')));
    console.log(JSON.stringify({ figure: 'dubbo.scale.create', znodes: jobs.length, ms: Date.now() - started }));
  }, 600_000);

  afterAll(async () => {
    abort.abort();
    await admin.removeTree(root);
    admin.close();
  }, 600_000);

  it('imports the good ones and quarantines each bad one with its reason', async () => {
    const { client, source } = createDubbo(dubboOptions(zk, { root, import: ['interface'] }), { registryId: 'zk', bridgeId: 'b', logger: SILENT_LOGGER });
    const started = Date.now();
    await source.start(abort.signal);
    await vi.waitFor(() => { expect(source.hasSynced()).toBe(true); }, { timeout: 300_000, interval: 50 });
    console.log(JSON.stringify({ figure: 'dubbo.scale.initialSync', znodes: INTERFACES * PER_INTERFACE, ms: Date.now() - started, rssMB: Math.round(process.memoryUsage().rss / 2 ** 20) }));
    try {
      let imported = 0;
      for (const [iface, count] of expected) {
        const snap = source.get({ namespace: 'default', name: iface });
        expect(snap?.endpoints.length, iface).toBe(count);
        expect(snap?.ports).toEqual([{ name: 'dubbo', port: 20880, protocol: 'dubbo' }]);
        imported += count;
      }
      expect(imported).toBe(INTERFACES * PER_INTERFACE - bad.size);
      const quarantined = source.quarantined();
      expect(quarantined).toHaveLength(bad.size);
      for (const q of quarantined) {
        const name = q.nativeId.slice(q.nativeId.indexOf('/providers/') + '/providers/'.length);
        const kind = bad.get(name);
        expect(kind, q.nativeId.slice(0, 120)).toBeDefined();
        if (kind !== undefined && kind !== 'good') expect(q.reason).toMatch(EXPECTED[kind]);
      }
      expect(source.health().reachable).toBe(true);

      // One change with 10,000 znodes loaded: a new provider reaches the cache through its watch.
      const iface = 'com.example.scale.Service7';
      const ref = { namespace: 'default', name: iface };
      const before = source.get(ref)?.endpoints.length ?? 0;
      const seen = new Promise<number>((resolve) => {
        const off = source.onChange((r) => {
          if (r.name === iface && (source.get(ref)?.endpoints.length ?? 0) > before) {
            off();
            resolve(performance.now());
          }
        });
      });
      const t0 = performance.now();
      await admin.putProvider(root, iface, nativeProviderUrl(iface, '10.200.0.1', 20880));
      const t1 = await seen;
      console.log(JSON.stringify({ figure: 'dubbo.scale.oneChangeMs', ms: Math.round((t1 - t0) * 10) / 10 }));
      expect(source.get(ref)?.endpoints.map((e) => e.address)).toContain('10.200.0.1');
    } finally {
      client.close();
    }
  });
});

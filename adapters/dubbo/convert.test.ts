import { describe, expect, it } from 'vitest';
import { instanceSnapshot, parseProviderNode, providerSnapshots, serviceKey, type ImportSettings } from './convert.ts';
import { javaUrlEncode } from './url.ts';

const S: ImportSettings = { registry: 'zk', namespace: 'default', names: {}, protocols: ['dubbo', 'tri'], maxUrlLength: 2048 };
const IFACE = 'com.acme.Greeter';
const DIR = javaUrlEncode(IFACE);
const node = (url: string): string => javaUrlEncode(url);

describe('dubbo convert (ZooKeeper → model)', () => {
  it('names services interface[:version[:group]]', () => {
    expect(serviceKey(IFACE)).toBe(IFACE);
    expect(serviceKey(IFACE, '1.0.0')).toBe(`${IFACE}:1.0.0`);
    expect(serviceKey(IFACE, '', 'g1')).toBe(`${IFACE}::g1`);
    expect(serviceKey(IFACE, '1.0.0', 'g1')).toBe(`${IFACE}:1.0.0:g1`);
  });

  it('imports providers with protocol-named ports, weight, version/group and enabled', () => {
    const children = [
      node(`dubbo://10.0.0.1:20880/${IFACE}?application=shop&interface=${IFACE}&side=provider&weight=50`),
      node(`tri://10.0.0.1:50051/${IFACE}?application=shop&interface=${IFACE}&side=provider`),
      node(`dubbo://10.0.0.2:20880/${IFACE}?application=shop&interface=${IFACE}&enabled=false`),
      node(`dubbo://10.0.0.3:20880/${IFACE}?application=shop&interface=${IFACE}&version=2.0.0&group=blue`),
    ];
    const { snapshots, quarantined } = providerSnapshots(DIR, children, S);
    expect(quarantined).toEqual([]);
    const plain = snapshots.find((s) => s.ref.name === IFACE);
    expect(plain?.ports.map((p) => p.name)).toEqual(['dubbo', 'tri']);
    expect(plain?.endpoints.map((e) => [e.address, e.ports, e.weight, e.ready, e.terminating])).toEqual([
      ['10.0.0.1', { dubbo: 20880, tri: 50051 }, 50, true, false],
      ['10.0.0.2', { dubbo: 20880 }, 100, false, true],
    ]);
    expect(plain?.endpoints[0]?.metadata['dubbo.application']).toBe('shop');
    expect(snapshots.find((s) => s.ref.name === `${IFACE}:2.0.0:blue`)?.endpoints).toHaveLength(1);
  });

  it('quarantines bad records with a reason and skips what a bridge wrote', () => {
    const bad = [
      'abc%zz',
      node(`dubbo://10.0.0.1/${IFACE}?interface=${IFACE}`),
      node(`http2://10.0.0.1:80/${IFACE}?interface=${IFACE}`),
      node(`dubbo://10.0.0.1:20880/${IFACE}?interface=${IFACE}&huge=${'x'.repeat(3000)}`),
      node(`dubbo://10.0.0.1:20880/${IFACE}?interface=com.other.Svc`),
      node(`dubbo://not-an-ip:20880/${IFACE}?interface=${IFACE}`),
      node(`dubbo://10.0.0.1:20880/${IFACE}?interface=${IFACE}&methods=${'m,'.repeat(400)}`),
    ];
    const mine = node(`dubbo://10.0.0.9:20880/${IFACE}?interface=${IFACE}&isthmus.managed-by=b1`);
    const { snapshots, quarantined } = providerSnapshots(DIR, [...bad, mine], S);
    expect(snapshots).toEqual([]);
    expect(quarantined.map((q) => q.reason)).toEqual([
      'znode name is not valid URL encoding',
      'URL has no port',
      'unknown protocol "http2"',
      expect.stringMatching(/^provider URL is \d+ characters \(limit 2048\)$/),
      expect.stringContaining('does not match its directory'),
      'address "not-an-ip" is not an IP address',
      expect.stringMatching(/^metadata dubbo.methods is \d+ characters/),
    ]);
  });

  it('quarantines a service whose ref the model refuses, and keeps the others of the directory', () => {
    const children = [
      node(`dubbo://10.0.0.1:20880/${IFACE}?interface=${IFACE}&group=team/a`),
      node(`dubbo://10.0.0.2:20880/${IFACE}?interface=${IFACE}&group=team-a`),
    ];
    const { snapshots, quarantined } = providerSnapshots(DIR, children, S);
    expect(snapshots.map((s) => s.ref.name)).toEqual([`${IFACE}::team-a`]);
    expect(quarantined).toEqual([{ nativeId: `${DIR}/providers/${children[0] ?? ''}`, reason: expect.stringContaining('contains "/"') as unknown }]);
    expect(instanceSnapshot(`app\u0001`, new Map([['10.0.0.1:1', Buffer.from('{}')]]), [], S).quarantined[0]?.reason).toContain('control character');
  });

  it('reads the names table by own keys only', () => {
    const iface = 'constructor';
    const r = parseProviderNode(iface, node(`dubbo://10.0.0.1:20880/${iface}?interface=${iface}`), S);
    expect(r.kind === 'ok' && r.value.ref).toEqual({ namespace: 'default', name: 'constructor' });
  });

  it('maps an application name through the names table', () => {
    const r = parseProviderNode(DIR, node(`dubbo://10.0.0.1:20880/${IFACE}?interface=${IFACE}`), { ...S, names: { [IFACE]: 'greeter' } });
    expect(r.kind === 'ok' && r.value.ref).toEqual({ namespace: 'default', name: 'greeter' });
  });

  it('imports Dubbo 3 instances with dubbo.endpoints and the mapped interfaces', () => {
    const doc = (addr: string, meta: Record<string, string>): Buffer =>
      Buffer.from(JSON.stringify({ name: 'shop', id: `${addr}:20880`, address: addr, port: 20880, payload: { metadata: meta } }));
    const nodes = new Map<string, Buffer | undefined>([
      ['10.0.0.1:20880', doc('10.0.0.1', { 'dubbo.endpoints': '[{"port":20880,"protocol":"dubbo"},{"port":50051,"protocol":"tri"}]', 'dubbo.metadata.revision': 'abc' })],
      ['10.0.0.2:20880', doc('10.0.0.2', {})],
      ['10.0.0.3:20880', Buffer.from('{not json')],
      ['10.0.0.4:20880', doc('10.0.0.4', { 'dubbo.endpoints': '[{"port":1,"protocol":"smtp"}]' })],
      ['10.0.0.5:20880', doc('10.0.0.5', { 'isthmus.managed-by': 'b1' })],
    ]);
    const { snapshots, quarantined } = instanceSnapshot('shop', nodes, [IFACE], S);
    expect(snapshots[0]?.ref).toEqual({ namespace: 'default', name: 'shop' });
    expect(snapshots[0]?.metadata).toEqual({ 'dubbo.interfaces': IFACE });
    expect(snapshots[0]?.endpoints.map((e) => e.ports)).toEqual([{ dubbo: 20880, tri: 50051 }, { dubbo: 20880 }]);
    expect(quarantined.map((q) => q.reason)).toEqual(['instance data is not JSON', 'unknown protocol "smtp" in dubbo.endpoints']);
  });
});

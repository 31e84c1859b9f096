import { describe, expect, it } from 'vitest';
import type { Endpoint, ServiceSnapshot } from '../../bridge/model/index.ts';
import { parseProviderNode } from './convert.ts';
import { dirMark, planExport, type ExportSettings } from './encode.ts';
import { instanceRevision, ownedInstance, ownedMetadata, ownedProvider } from './owned.ts';
import { javaUrlDecode, parseDubboUrl } from './url.ts';

const S: ExportSettings = { bridgeId: 'b1', root: '/dubbo', servicesRoot: '/services', defaultProtocol: 'dubbo', release: '3.3.2', persistent: false };
const ep = (i: number, extra: Partial<Endpoint> = {}): Endpoint => ({
  address: `10.1.0.${i}`,
  ports: { dubbo: 20880 },
  ready: true,
  serving: true,
  terminating: false,
  weight: 100,
  metadata: {},
  origin: { registry: 'k8s', nativeId: `shop/pod-${i}&x=y` },
  ...extra,
});
const snap = (endpoints: Endpoint[], metadata: Record<string, string> = {}): ServiceSnapshot => ({
  ref: { namespace: 'shop', name: 'greeter' },
  ports: [{ name: 'dubbo', port: 20880 }],
  endpoints,
  metadata: { 'isthmus.dev/dubbo-interfaces': 'com.acme.Greeter,com.acme.Admin', 'isthmus.dev/dubbo-version': '1.0.0', 'isthmus.dev/dubbo-application': 'greeter-app', ...metadata },
  origin: 'k8s',
});

describe('dubbo encode (model → ZooKeeper)', () => {
  it('writes one provider URL per interface and one instance per ready endpoint, plus metadata and mapping', () => {
    const plan = planExport(snap([ep(1), ep(2, { terminating: true, ready: false })]), S);
    const providers = plan.nodes.filter((n) => n.path.includes('/providers/'));
    expect(providers.map((n) => n.path.split('/providers/')[0])).toEqual(['/dubbo/com.acme.Greeter', '/dubbo/com.acme.Admin']);
    expect(plan.nodes.filter((n) => n.path.startsWith('/services/')).map((n) => n.path)).toEqual(['/services/greeter-app/10.1.0.1:20880']);
    expect(plan.mappings).toEqual(['/dubbo/mapping/com.acme.Greeter', '/dubbo/mapping/com.acme.Admin']);
    const meta = JSON.parse(plan.metadata?.data.toString() ?? '{}') as { app: string; revision: string; services: Record<string, { port: number }> };
    expect(plan.metadata?.path).toBe(`/dubbo/metadata/greeter-app/${meta.revision}`);
    expect(Object.keys(meta.services).sort()).toEqual(['com.acme.Admin:1.0.0:dubbo', 'com.acme.Greeter:1.0.0:dubbo']);
  });

  it('is deterministic: the same snapshot plans the same bytes', () => {
    expect(planExport(snap([ep(1)]), S)).toEqual(planExport(snap([ep(1)]), S));
  });

  it('reads back what it wrote as owned, and a source skips it', () => {
    const plan = planExport(snap([ep(3, { weight: 40 })]), S);
    const prov = plan.nodes.find((n) => n.path.includes('/providers/'));
    const [dir = '', child = ''] = prov?.path.split(/\/(?=[^/]+$)/) ?? [];
    const owned = ownedProvider(dir, child, 'b1');
    expect(owned?.ref).toEqual({ namespace: 'shop', name: 'greeter' });
    expect(owned?.endpoint).toMatchObject({ address: '10.1.0.3', ports: { dubbo: 20880 }, weight: 40, origin: { registry: 'k8s', nativeId: 'shop/pod-3&x=y' } });
    expect(ownedProvider(dir, child, 'other')).toBeUndefined();
    const url = parseDubboUrl(javaUrlDecode(child) ?? '');
    expect(url.ok && url.url.params).toMatchObject({ interface: 'com.acme.Greeter', version: '1.0.0', application: 'greeter-app', side: 'provider', weight: '40', dynamic: 'true' });
    expect(parseProviderNode('com.acme.Greeter', child, { registry: 'zk', namespace: 'd', names: {}, protocols: ['dubbo'], maxUrlLength: 8192 }).kind).toBe('skip');
    const inst = plan.nodes.find((n) => n.path.startsWith('/services/'));
    expect(ownedInstance(inst?.path ?? '', inst?.data, 'b1')?.endpoint.address).toBe('10.1.0.3');
  });

  it('uses the annotated protocol and the port named after it', () => {
    const plan = planExport(snap([ep(4, { ports: { http: 8080, tri: 50051 } })], { 'isthmus.dev/dubbo-protocol': 'tri' }), S);
    expect(plan.nodes.some((n) => javaUrlDecode(n.path)?.includes('tri://10.1.0.4:50051/com.acme.Greeter'))).toBe(true);
    const doc = JSON.parse(plan.nodes.find((n) => n.path.startsWith('/services/'))?.data.toString() ?? '{}') as { payload: { metadata: Record<string, string> } };
    expect(doc.payload.metadata['dubbo.endpoints']).toBe('[{"port":50051,"protocol":"tri"}]');
    expect(doc.payload.metadata['dubbo.metadata.storage-type']).toBe('remote');
  });
  it('marks MetadataInfo with our bridge id, so two bridges never share a revision node', () => {
    const ours = planExport(snap([ep(6)]), S);
    const theirs = planExport(snap([ep(6)]), { ...S, bridgeId: 'b2' });
    expect(ownedMetadata(ours.metadata?.data, 'b1')).toBe(true);
    expect(ownedMetadata(ours.metadata?.data, 'b2')).toBe(false);
    expect(ownedMetadata(Buffer.from('{"app":"x","revision":"r","services":{}}'), 'b1')).toBe(false);
    expect(ownedMetadata(Buffer.from('not json isthmus.managed-by'), 'b1')).toBe(false);
    expect(ours.metadata?.path).not.toBe(theirs.metadata?.path);
    const inst = ours.nodes.find((n) => n.path.startsWith('/services/'));
    expect(ours.metadata?.path.endsWith(`/${instanceRevision(inst?.data) ?? '?'}`)).toBe(true);
  });

  it('marks the directories it creates with the bridge id only', () => {
    expect(dirMark(S).toString()).toBe('isthmus.managed-by=b1');
    expect(dirMark({ bridgeId: 'a/b' }).equals(dirMark(S))).toBe(false);
  });

  it('names ephemeral provider nodes per session, persistent ones not', () => {
    const url = (settings: ExportSettings, session: string): string => planExport(snap([ep(5)]), settings, session).nodes.map((n) => javaUrlDecode(n.path) ?? '').find((p) => p.includes('/providers/')) ?? '';
    expect(url(S, 'abc')).toContain('isthmus.session=abc');
    expect(url(S, 'abc')).not.toBe(url(S, 'def'));
    expect(url({ ...S, persistent: true }, 'abc')).not.toContain('isthmus.session');
    expect(url({ ...S, persistent: true }, 'abc')).toContain('dynamic=false');
  });

  it('leaves out annotation values ZooKeeper or a Dubbo URL cannot carry, and says why', () => {
    const plan = planExport(snap([ep(7)], { 'isthmus.dev/dubbo-interfaces': 'com.acme.Ok,com.bad/Path, com.acme.Ok ', 'isthmus.dev/dubbo-group': 'a&b=c' }), S);
    expect(plan.nodes).toEqual([]);
    expect(plan.problems).toEqual([expect.stringContaining('group of com.acme.Ok'), expect.stringContaining('interface "com.bad/Path"'), expect.stringContaining('group of com.acme.Ok')]);
    const sane = planExport(snap([ep(7)], { 'isthmus.dev/dubbo-interfaces': 'com.acme.Ok, com.acme.Ok ,', 'isthmus.dev/dubbo-protocol': 'tri://x', 'isthmus.dev/dubbo-methods': 'a&b' }), S);
    expect(sane.nodes.filter((n) => n.path.includes('/providers/'))).toHaveLength(1);
    expect(sane.problems).toEqual([expect.stringContaining('protocol'), expect.stringContaining('methods')]);
    const noApp = planExport(snap([ep(7)], { 'isthmus.dev/dubbo-application': 'a/b' }), S);
    expect([noApp.nodes, noApp.metadata, noApp.mappings]).toEqual([[], undefined, []]);
  });
});

import { describe, expect, it } from 'vitest';
import { toSnapshots, wantsService, livenessOfInstance, modelWeight, type ImportSettings } from './convert.ts';
import type { NacosInstance } from './native.ts';

const S: ImportSettings = {
  registry: 'nacos',
  namespace: 'default',
  defaultGroup: 'DEFAULT_GROUP',
  groups: ['DEFAULT_GROUP', 'g2'],
  services: ['*'],
  clusters: [],
  portName: 'http',
  zoneMetaKey: 'zone',
  metadata: {},
};
const N = { group: 'DEFAULT_GROUP', service: 'orders' };

function inst(ip: string, extra: Partial<NacosInstance> = {}): NacosInstance {
  return { ip, port: 8080, weight: 1, healthy: true, enabled: true, ephemeral: true, clusterName: 'DEFAULT', metadata: {}, ...extra };
}

describe('nacos → model', () => {
  it('maps Spring Cloud Alibaba instances: secure, management port, weight, health', () => {
    const { snapshots } = toSnapshots(N, {
      hosts: [
        inst('10.0.0.1', { metadata: { 'preserved.register.source': 'SPRING_CLOUD', secure: 'true', 'management.port': '8081' }, weight: 2.5 }),
        inst('10.0.0.2', { enabled: false }),
        inst('10.0.0.3', { healthy: false }),
      ],
    }, S);
    expect(snapshots).toHaveLength(1);
    const [a, b, c] = snapshots[0]?.endpoints ?? [];
    expect(a).toMatchObject({ address: '10.0.0.1', ports: { http: 8080, management: 8081 }, protocol: 'https', ready: true, weight: 250 });
    expect(a?.metadata['preserved.register.source']).toBe('SPRING_CLOUD');
    expect(b).toMatchObject({ ready: false, serving: true, terminating: true });
    expect(c).toMatchObject({ ready: false, serving: false, terminating: false });
    expect(snapshots[0]?.ports).toEqual([{ name: 'http', port: 8080, protocol: 'https' }, { name: 'management', port: 8081 }]);
  });

  it('never imports what any Isthmus wrote, and a service of only such instances yields nothing', () => {
    const ours = inst('10.0.0.9', { metadata: { 'isthmus.managed-by': 'other-bridge' } });
    expect(toSnapshots(N, { hosts: [ours] }, S).snapshots).toEqual([]);
    expect(toSnapshots(N, { hosts: [ours, inst('10.0.0.1')] }, S).snapshots[0]?.endpoints.map((e) => e.address)).toEqual(['10.0.0.1']);
  });

  it('names non-default groups group@@service and recognises Dubbo provider names', () => {
    const { snapshots } = toSnapshots({ group: 'g2', service: 'providers:com.foo.Demo:1.0.0:' }, { hosts: [inst('10.0.0.1', { metadata: { protocol: 'dubbo' } })] }, S);
    expect(snapshots[0]?.ref).toEqual({ namespace: 'default', name: 'g2@@providers:com.foo.Demo:1.0.0:' });
    expect(snapshots[0]?.metadata).toMatchObject({ 'dubbo.interface': 'com.foo.Demo', 'dubbo.version': '1.0.0', 'dubbo.category': 'providers' });
    expect(snapshots[0]?.endpoints[0]?.protocol).toBe('dubbo');
    expect(wantsService({ group: 'g2', service: 'consumers:com.foo.Demo::' }, S)).toBe(false);
    expect(wantsService({ group: 'other', service: 'orders' }, S)).toBe(false);
  });

  it('quarantines unconvertible instances with a reason', () => {
    const { snapshots, quarantined } = toSnapshots(N, { hosts: [inst('not-an-ip'), inst('10.0.0.1')] }, S);
    expect(snapshots[0]?.endpoints).toHaveLength(1);
    expect(quarantined[0]?.reason).toMatch(/not an IP/);
  });

  it('maps weights and health', () => {
    expect(modelWeight(undefined)).toBe(100);
    expect(modelWeight(0)).toBe(0);
    expect(modelWeight(1e9)).toBe(10_000);
    expect(livenessOfInstance(inst('1.1.1.1', { healthy: false, enabled: false }))).toBe('down');
  });
});

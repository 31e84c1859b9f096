import { describe, expect, it } from 'vitest';
import type { Endpoint } from '../../bridge/model/index.ts';
import { conditionsOf } from '../../bridge/model/index.ts';
import { toEndpoint, toSnapshots } from './convert.ts';
import { M, bodyKey, callerWeight, fromInstance, instanceIdOf, isIsthmusInstance, isOwned, overrideFor, toInstance, type ExportSettings } from './encode.ts';

const S: ExportSettings = { bridgeId: 'prod-east', portName: 'http', securePortName: 'https', zoneMetaKey: 'zone', namespace: 'default', renewIntervalSeconds: 30, leaseDurationSeconds: 90 };
const REF = { namespace: 'shop', name: 'orders' };

function ep(over: Partial<Endpoint> = {}): Endpoint {
  return { address: '10.1.0.7', ports: { http: 8080 }, ready: true, serving: true, terminating: false, weight: 100, metadata: { team: 'a' }, origin: { registry: 'k8s', nativeId: 'shop/orders-abc/10.1.0.7' }, ...over };
}

describe('eureka export encoding', () => {
  it('registers what a Spring Cloud client would, plus our markers', () => {
    const i = toInstance(REF, ep({ zone: 'z1', weight: 250 }), S);
    expect(i.app).toBe('ORDERS');
    expect(i.vipAddress).toBe('orders');
    expect(i.ipAddr).toBe('10.1.0.7');
    expect(i.hostName).toBe('10.1.0.7');
    expect(i.status).toBe('UP');
    expect(i.overriddenStatus).toBe('UNKNOWN');
    expect(i.port).toEqual({ $: 8080, '@enabled': 'true' });
    expect(i.securePort).toEqual({ $: 443, '@enabled': 'false' });
    expect(i.dataCenterInfo).toEqual({ '@class': 'com.netflix.appinfo.InstanceInfo$DefaultDataCenterInfo', name: 'MyOwn' });
    expect(i.leaseInfo).toEqual({ renewalIntervalInSecs: 30, durationInSecs: 90 });
    expect(i.metadata).toMatchObject({ [M.managedBy]: 'prod-east', [M.origin]: 'k8s', [M.namespace]: 'shop', weight: '3', zone: 'z1', [M.extra]: 'weight,zone', team: 'a' });
    expect(isOwned(i, 'prod-east')).toBe(true);
    expect(isOwned(i, 'prod-west')).toBe(false);
    expect(isIsthmusInstance(i)).toBe(true);
  });

  it('carries health as the status override: ready none, draining OUT_OF_SERVICE, down DOWN', () => {
    expect(overrideFor(conditionsOf('ready'))).toBe('UNKNOWN');
    expect(overrideFor(conditionsOf('draining'))).toBe('OUT_OF_SERVICE');
    expect(overrideFor(conditionsOf('down'))).toBe('DOWN');
    const down = toInstance(REF, ep(conditionsOf('down')), S);
    expect([down.status, down.overriddenStatus]).toEqual(['DOWN', 'DOWN']);
    // Health is not part of the body: a flip is never a re-registration.
    expect(bodyKey(down)).toBe(bodyKey(toInstance(REF, ep(), S)));
  });

  it('round-trips every field it renders', () => {
    const cases: Endpoint[] = [
      ep(),
      ep({ ...conditionsOf('draining'), weight: 0, zone: 'z2', node: 'n1', protocol: 'grpc' }),
      ep({ ...conditionsOf('down'), ports: { http: 8080, admin: 9000, https: 8443 } }),
      // A mix no status names: kept in metadata.
      ep({ ready: false, serving: true, terminating: false }),
      ep({ metadata: { 'isthmus.team': 'x', weight: '7', zone: 'mine' }, zone: 'z3' }),
      ep({ ports: { grpc: 9090 } }),
      ep({ ports: { https: 8443 } }),
    ];
    for (const e of cases) {
      const back = fromInstance(toInstance(REF, e, S), S);
      expect(back, JSON.stringify(e)).toEqual(e);
    }
  });

  it('exports the weight as Spring Cloud LoadBalancer reads it (integer ≥ 1), unless the endpoint says its own', () => {
    expect([0, 49, 50, 100, 250, 10_000].map(callerWeight)).toEqual([1, 1, 1, 1, 3, 100]);
    expect(toInstance(REF, ep({ metadata: { weight: '9' } }), S).metadata?.['weight']).toBe('9');
  });

  it('ids are Spring-shaped, stable, and differ per bridge, origin and namespace', () => {
    const id = instanceIdOf(REF, ep(), S);
    expect(id).toMatch(/^10\.1\.0\.7:orders:8080:isthmus-[0-9a-f]{12}$/);
    expect(instanceIdOf(REF, ep(), S)).toBe(id);
    expect(instanceIdOf(REF, ep(), { ...S, bridgeId: 'other' })).not.toBe(id);
    expect(instanceIdOf({ ...REF, namespace: 'x' }, ep(), S)).not.toBe(id);
    expect(instanceIdOf(REF, ep({ origin: { registry: 'nacos', nativeId: 'n' } }), S)).not.toBe(id);
  });

  it('our registrations are never imported back, and an exported secure port reads back as https', () => {
    const i = toInstance(REF, ep({ ports: { https: 8443 } }), S);
    expect(toSnapshots('ORDERS', [i], { registry: 'e', namespace: 'default', services: ['*'], nameFrom: 'app', portName: 'http', securePortName: 'https', zoneMetaKey: 'zone' }).snapshots).toEqual([]);
    const { metadata: _m, ...bare } = i;
    const seen = toEndpoint('ORDERS', bare, { registry: 'e', namespace: 'default', services: ['*'], nameFrom: 'app', portName: 'http', securePortName: 'https', zoneMetaKey: 'zone' });
    expect('problem' in seen ? seen.problem : [seen.ports, seen.protocol]).toEqual([{ https: 8443 }, 'https']);
  });
});

// Golden identifiers: what this sink writes into Nacos for one fixed endpoint, as literals.
// Instances already in production are found again only through these exact names, keys and
// values (the service name, the ip#port#cluster#group@@service id, the marker keys). A change
// here orphans every record an older version wrote: it needs a migration, not a new literal.
import { describe, expect, it } from 'vitest';
import type { ServiceSnapshot } from '../../bridge/model/index.ts';
import { GOLDEN_ENDPOINT as EP, GOLDEN_REF as REF, METADATA_MARKER_KEYS } from '../shared/testing/golden.ts';
import { M, fromInstance, toInstance, type ExportSettings } from './encode.ts';
import { nameOfRef, refOfName } from './naming.ts';
import { instanceIdOf, groupedName } from './native.ts';
import { planNacos, type NacosState } from './plan.ts';

const S: ExportSettings = { bridgeId: 'prod-east', portName: 'http', cluster: 'DEFAULT', namespace: 'default' };

describe('nacos golden identifiers', () => {
  it('marker keys', () => {
    expect(M).toEqual(METADATA_MARKER_KEYS);
  });

  it('the instance written for a fixed endpoint', () => {
    const i = toInstance(REF, EP, S, true);
    expect(i).toStrictEqual({
      ip: '10.1.2.3',
      port: 8080,
      weight: 2.5,
      healthy: true,
      enabled: false,
      ephemeral: true,
      clusterName: 'DEFAULT',
      metadata: {
        app: 'orders',
        'isthmus.user.isthmus.team': 'a',
        'isthmus.managed-by': 'prod-east',
        'isthmus.origin': 'k8s',
        'isthmus.origin-id': 'shop/orders-7f9c/10.1.2.3',
        'isthmus.ns': 'shop',
        'isthmus.ports': 'http=8080,metrics=9090',
        'isthmus.conditions': 'st',
        'isthmus.weight': '250',
        'isthmus.protocol': 'grpc',
        'isthmus.zone': 'z1',
        'isthmus.node': 'n1',
      },
    });
    expect(fromInstance(i, S)).toEqual(EP);
    expect(toInstance(REF, { ...EP, ready: false, serving: false, terminating: false }, S, true)).toMatchObject({ healthy: false, enabled: true, metadata: { 'isthmus.conditions': '' } });
    expect(toInstance(REF, { ...EP, ready: true, terminating: false }, S, false)).toMatchObject({ healthy: true, enabled: true, ephemeral: false, metadata: { 'isthmus.conditions': 'rs' } });
  });

  it('service names and instance ids', () => {
    const plain = nameOfRef(REF, 'DEFAULT_GROUP');
    const dubbo = nameOfRef({ namespace: 'shop', name: 'payments@@providers:com.shop.Pay:1.0.0:' }, 'DEFAULT_GROUP');
    expect(groupedName(plain)).toBe('DEFAULT_GROUP@@orders');
    expect(dubbo).toEqual({ group: 'payments', service: 'providers:com.shop.Pay:1.0.0:' });
    expect(refOfName(dubbo, 'DEFAULT_GROUP', 'shop')).toEqual({ namespace: 'shop', name: 'payments@@providers:com.shop.Pay:1.0.0:' });
    const i = toInstance(REF, EP, S, true);
    expect(instanceIdOf(plain, i)).toBe('10.1.2.3#8080#DEFAULT#DEFAULT_GROUP@@orders');
    expect(instanceIdOf(dubbo, i)).toBe('10.1.2.3#8080#DEFAULT#payments@@providers:com.shop.Pay:1.0.0:');
  });

  it('the operations a plan names', () => {
    const desired: ServiceSnapshot = { ref: REF, ports: [{ name: 'http', port: 8080 }], endpoints: [EP], metadata: {}, origin: 'k8s' };
    const state: NacosState = { ref: REF, observed: undefined, name: nameOfRef(REF, 'DEFAULT_GROUP'), ephemeral: true, held: [], ownConnection: false };
    expect(planNacos(state, desired, S).operations).toEqual([{ verb: 'create', record: 'ephemeral set DEFAULT_GROUP@@orders (1 instance)' }]);
    expect(planNacos({ ...state, ephemeral: false }, desired, S).operations).toEqual([{ verb: 'create', record: 'instance 10.1.2.3#8080#DEFAULT#DEFAULT_GROUP@@orders' }]);
    const held = [toInstance(REF, EP, S, true)];
    expect(planNacos({ ...state, held, ownConnection: true }, undefined, S).operations).toEqual([{ verb: 'delete', record: 'ephemeral set DEFAULT_GROUP@@orders (0 instances)' }]);
  });
});

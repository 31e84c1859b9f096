// Golden identifiers: what this sink writes into Eureka for one fixed endpoint, as literals.
// Instances already registered are found again only through these exact names, ids, keys and
// values (the app name, the instance id, the marker keys). A change here orphans every lease an
// older version holds: it needs a migration, not a new literal.
import { describe, expect, it } from 'vitest';
import { GOLDEN_ENDPOINT as EP, GOLDEN_REF as REF, METADATA_MARKER_KEYS } from '../shared/testing/golden.ts';
import { M, toInstance, type ExportSettings } from './encode.ts';

const S: ExportSettings = { bridgeId: 'prod-east', portName: 'http', securePortName: 'https', zoneMetaKey: 'zone', namespace: 'default', renewIntervalSeconds: 30, leaseDurationSeconds: 90 };

describe('eureka golden identifiers', () => {
  it('marker keys', () => {
    expect(M).toEqual({ ...METADATA_MARKER_KEYS, extra: 'isthmus.extra' });
  });

  it('the registration body', () => {
    expect(toInstance(REF, EP, S)).toEqual({
      instanceId: '10.1.2.3:orders:8080:isthmus-f860a670f831',
      app: 'ORDERS',
      hostName: '10.1.2.3',
      ipAddr: '10.1.2.3',
      status: 'OUT_OF_SERVICE',
      overriddenStatus: 'OUT_OF_SERVICE',
      port: { $: 8080, '@enabled': 'true' },
      securePort: { $: 443, '@enabled': 'false' },
      vipAddress: 'orders',
      secureVipAddress: 'orders',
      dataCenterInfo: { '@class': 'com.netflix.appinfo.InstanceInfo$DefaultDataCenterInfo', name: 'MyOwn' },
      leaseInfo: { renewalIntervalInSecs: 30, durationInSecs: 90 },
      metadata: {
        app: 'orders',
        'isthmus.user.isthmus.team': 'a',
        'isthmus.managed-by': 'prod-east',
        'isthmus.origin': 'k8s',
        'isthmus.origin-id': 'shop/orders-7f9c/10.1.2.3',
        'isthmus.ns': 'shop',
        'isthmus.ports': 'http=8080,metrics=9090',
        'isthmus.weight': '250',
        'isthmus.protocol': 'grpc',
        'isthmus.zone': 'z1',
        'isthmus.node': 'n1',
        weight: '3',
        zone: 'z1',
        'isthmus.extra': 'weight,zone',
      },
    });
  });
});

import { Value } from '@sinclair/typebox/value';
import { describe, expect, it } from 'vitest';
import type { Endpoint } from '../../bridge/model/index.ts';
import { toRegistration } from './encode.ts';
import { exportSettings } from './index.ts';
import { encodeMetaKey } from './meta-keys.ts';
import { ConsulOptions } from './options.ts';
import { nodeOp } from './plan.ts';

// Pinned native identifiers. An upgrade that changes any of these strings would leave every
// record an older Isthmus wrote orphaned (never matched, never deleted) or duplicated: change
// one only together with a migration, never as a side effect.
const SETTINGS = exportSettings(Value.Default(ConsulOptions, {}) as ConsulOptions, 'prod-east');
const EP: Endpoint = {
  address: '10.1.2.3',
  ports: { http: 8080, grpc: 9090 },
  protocol: 'https',
  ready: true,
  serving: true,
  terminating: false,
  weight: 250,
  zone: 'eu-1a',
  node: 'worker-3',
  metadata: { 'app.kubernetes.io/name': 'orders', 'tag:canary': 'true', 'consul-x': '1' },
  origin: { registry: 'k8s', nativeId: 'shop/orders-abc/10.1.2.3' },
};

describe('golden Consul identifiers', () => {
  it('names the synthetic node, the service id and the check id exactly as released', () => {
    expect(SETTINGS.node).toBe('isthmus-prod-east');
    expect(nodeOp(SETTINGS.node, '127.0.0.1', 'prod-east')).toEqual({
      Node: { Verb: 'set', Node: { Node: 'isthmus-prod-east', Address: '127.0.0.1', Meta: { 'external-source': 'isthmus', 'isthmus-managed-by': 'prod-east' } } },
    });
    const r = toRegistration({ namespace: 'shop', name: 'orders' }, EP, SETTINGS);
    expect(r.service.ID).toBe('isthmus-6d760ea27d0d0020');
    expect(r.check.CheckID).toBe('service:isthmus-6d760ea27d0d0020');
    expect(r.check.Name).toBe('Isthmus sync state');
    // The primary port is the configured port name, else the lowest-named port.
    const other = toRegistration({ namespace: 'default', name: 'billing' }, { ...EP, ports: { grpc: 9090 }, origin: { registry: 'nacos-prod', nativeId: 'x' } }, SETTINGS);
    expect(other.service.ID).toBe('isthmus-09464d20484dc48f');
  });

  it('writes the marker and Meta keys exactly as released', () => {
    const r = toRegistration({ namespace: 'shop', name: 'orders' }, EP, SETTINGS);
    expect(r.service.Tags).toEqual(['isthmus', 'canary']);
    expect(r.service.Meta).toEqual({
      'external-source': 'isthmus',
      'isthmus-managed-by': 'prod-east',
      'isthmus-origin': 'k8s',
      'isthmus-origin-id': 'shop/orders-abc/10.1.2.3',
      'isthmus-ns': 'shop',
      'isthmus-ports': 'grpc=9090,http=8080',
      'isthmus-weight': '250',
      weight: '3',
      'isthmus-protocol': 'https',
      'isthmus-zone': 'eu-1a',
      'isthmus-node': 'worker-3',
      zone: 'eu-1a',
      secure: 'true',
      'isthmus-extra': 'zone,secure',
      'app_2ekubernetes_2eio_2fname': 'orders',
      '_63onsul-x': '1',
      'tag_3acanary': 'true',
    });
    expect(encodeMetaKey('snake_key')).toBe('snake_5fkey');
    expect(encodeMetaKey('isthmus-managed-by')).toBe('_69sthmus-managed-by');
  });
});

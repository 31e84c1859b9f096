import { describe, expect, it } from 'vitest';
import { BridgeError } from '../../errors/index.ts';
import { parseConfig } from './index.ts';
import type { ConfigProblem } from './index.ts';
import { TEST_KINDS } from './testing.ts';

const BASE = `
bridge: { id: prod-east }
registries:
  k8s: { kind: kubernetes }
  vm: { kind: consul, address: "http://10.0.0.6:8500" }
`;

function problems(text: string): ConfigProblem[] {
  try {
    parseConfig(text, TEST_KINDS, { env: {} });
  } catch (err) {
    expect(err).toBeInstanceOf(BridgeError);
    return (err as BridgeError).details['problems'] as ConfigProblem[];
  }
  throw new Error('expected the config to be refused');
}

describe('weights and resolver TLS in the config file', () => {
  it('reads per-service splits and TLS files, defaulting to no weights', () => {
    const config = parseConfig(`${BASE}weights: { shop/orders: { vm: 90, k8s: 10 } }\nresolver: { tls: { certFile: /etc/isthmus/tls.crt, keyFile: /etc/isthmus/tls.key } }\n`, TEST_KINDS, { env: {} });
    expect(config.weights).toEqual({ 'shop/orders': { vm: 90, k8s: 10 } });
    expect(config.resolver.tls).toEqual({ certFile: '/etc/isthmus/tls.crt', keyFile: '/etc/isthmus/tls.key' });
    expect(parseConfig(BASE, TEST_KINDS, { env: {} }).weights).toEqual({});
  });

  it('refuses unknown registries, negative or all-zero shares and names that are not namespace/name', () => {
    const found = problems(`${BASE}weights:\n  shop/orders: { vm: 90, pods: 10 }\n  shop/pay: { vm: 0 }\n  cart: { vm: 1 }\n  shop/x: { vm: -1 }\n`);
    const text = found.map((p) => `${p.path}: ${p.message}`).join('\n');
    expect(text).toMatch(/\/weights\/shop~1orders\/pods: registry pods is not configured/);
    expect(text).toMatch(/\/weights\/shop~1pay: at least one share must be above 0/);
    expect(text).toMatch(/cart/);
    expect(text).toMatch(/shop~1x/);
  });
});

import { describe, expect, it } from 'vitest';
import type { Endpoint } from './endpoint.ts';
import { endpointProblem } from './validate.ts';

const good: Endpoint = { address: '10.0.0.1', ports: { http: 80 }, ready: true, serving: true, terminating: false, weight: 100, metadata: {}, origin: { registry: 'vm', nativeId: 'x' } };

describe('endpointProblem: addresses', () => {
  it('refuses zone-scoped IPv6, which Node\'s isIP accepts', () => {
    for (const address of ['fe80::1%eth0', 'fe80::1%25eth0', 'fe80::a:b%1']) {
      expect(endpointProblem({ ...good, address }), address).toMatch(/scoped to a network interface/);
    }
  });

  it('keeps plain IPv4 and IPv6, link-local included', () => {
    for (const address of ['10.0.0.1', '2001:db8::5', 'fe80::1', '::ffff:10.0.0.1']) expect(endpointProblem({ ...good, address }), address).toBeUndefined();
  });
});

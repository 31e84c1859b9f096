import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { sliceAddressProblem } from './addresses.ts';

describe('sliceAddressProblem (what kube-apiserver 1.36 refuses in a slice)', () => {
  it('accepts ordinary addresses', () => {
    for (const a of ['10.0.0.1', '192.168.1.20', '255.255.255.255', '2001:db8::1', 'fd00::2', '2001:db8:0:1:1:1:1:1', '::2', 'ff05::1', '1::']) expect(sliceAddressProblem(a), a).toBeUndefined();
  });

  it('refuses exactly what the API server answered 422 for', () => {
    // Each reason measured against the real server (see README): one such address failed the whole slice.
    expect(sliceAddressProblem('2001:DB8::1')).toBe('address 2001:DB8::1 is not in canonical form (2001:db8::1)');
    expect(sliceAddressProblem('0:0::1')).toBe('address 0:0::1 is not in canonical form (::1)');
    expect(sliceAddressProblem('2001:db8:0:0:1:0:0:1')).toBe('address 2001:db8:0:0:1:0:0:1 is not in canonical form (2001:db8::1:0:0:1)');
    expect(sliceAddressProblem('2001:db8::0:1')).toMatch(/canonical form \(2001:db8::1\)/);
    expect(sliceAddressProblem('::1.2.3.4')).toMatch(/canonical form \(::102:304\)/);
    expect(sliceAddressProblem('::ffff:10.0.0.1')).toMatch(/IPv4-mapped/);
    expect(sliceAddressProblem('fe80::1%eth0')).toMatch(/zone/);
    for (const [a, why] of [['::', 'unspecified'], ['0.0.0.0', 'unspecified'], ['127.0.0.1', 'loopback'], ['127.1.2.3', 'loopback'], ['::1', 'loopback'], ['169.254.1.1', 'link-local'], ['fe80::1', 'link-local'], ['febf::1', 'link-local'], ['224.0.0.1', 'link-local multicast'], ['ff02::1', 'link-local multicast'], ['ff12::1', 'link-local multicast']] as const) {
      expect(sliceAddressProblem(a), a).toBe(`address ${a} is ${why}`);
    }
    expect(sliceAddressProblem('host.example')).toMatch(/not an IP/);
    expect(sliceAddressProblem('010.1.1.1')).toMatch(/not an IP/);
  });

  it('calls an IPv6 address non-canonical exactly when the WHATWG URL serializer (same RFC 5952 rule) rewrites it', () => {
    fc.assert(fc.property(fc.ipV6(), (a) => {
      const serialized = new URL(`http://[${a}]/`).hostname.slice(1, -1);
      const problem = sliceAddressProblem(a) ?? '';
      if (problem.includes('IPv4-mapped')) return;
      expect(problem.includes('canonical form'), a).toBe(serialized !== a);
    }), { numRuns: 2000 });
  });
});

import { describe, expect, it } from 'vitest';
import { DisabledLookup } from './disabled.ts';
import type { NacosInstance } from './native.ts';

const N = { group: 'DEFAULT_GROUP', service: 'orders' };

function inst(ip: string, extra: Partial<NacosInstance> = {}): NacosInstance {
  return { ip, port: 8080, weight: 1, healthy: true, enabled: true, ephemeral: true, clusterName: 'DEFAULT', metadata: {}, ...extra };
}

function lookup(reply: () => Response | Promise<Response>): DisabledLookup {
  return new DisabledLookup({ baseUrl: 'http://nacos/nacos', namespace: 'public', registry: 'nacos', requestTimeoutMs: 1000, fetch: () => Promise.resolve(reply()) });
}

const json = (status: number, body: unknown): Response => new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });

describe('disabled-instance lookup', () => {
  it('returns only the disabled instances of the admin list', async () => {
    const l = lookup(() => json(200, { code: 0, data: [inst('10.0.0.1'), inst('10.0.0.2', { enabled: false })] }));
    expect((await l.disabled(N)).map((i) => i.ip)).toEqual(['10.0.0.2']);
  });

  it('a service Nacos does not know is nothing disabled, not a missing API', async () => {
    const l = lookup(() => json(404, { code: 30000, message: 'server error', data: 'service DEFAULT_GROUP@@orders is not found!' }));
    expect(await l.disabled(N)).toEqual([]);
    expect(l.available).toBe(true);
  });

  it('turns itself off where the API is missing (2.x) or refused, and never throws', async () => {
    for (const reply of [json(404, { status: 404, error: 'Not Found' }), json(403, { code: 403 }), new Response('<html>', { status: 501 })]) {
      const l = lookup(() => reply);
      expect(await l.disabled(N)).toEqual([]);
      expect(l.available).toBe(false);
    }
    const down = lookup(() => { throw new Error('ECONNREFUSED'); });
    expect(await down.disabled(N)).toEqual([]);
    expect(down.available).toBe(true);
  });
});

import { afterEach, describe, expect, it } from 'vitest';
import { BridgeError } from '../../bridge/errors/index.ts';
import { listenLoopback, type LoopbackHttp } from '../shared/testing/loopback-http.ts';
import { EurekaClient, dashboardOf } from './client.ts';
import { startFakeEureka, type FakeEureka } from './fake-server.ts';

const closers: (() => Promise<void>)[] = [];
afterEach(async () => { await Promise.all(closers.splice(0).map((c) => c())); });

async function fake(options: Parameters<typeof startFakeEureka>[0] = {}): Promise<FakeEureka> {
  const f = await startFakeEureka(options);
  closers.push(() => f.close());
  return f;
}

async function dead(): Promise<string> {
  const l: LoopbackHttp = await listenLoopback(() => undefined);
  await l.close();
  return `${l.base}/eureka`;
}

describe('eureka client', () => {
  it('fails over to the next server on a refused connection or a 5xx, and stays there', async () => {
    const down = await dead();
    const broken = await fake();
    broken.failWith = 503;
    const good = await fake();
    const c = new EurekaClient({ registry: 'e', servers: [down, broken.base, good.base], requestTimeoutMs: 2000 });
    expect((await c.applications()).server).toBe(good.base);
    expect(c.server).toBe(good.base);
    await c.delta();
    expect(broken.log).toHaveLength(1);
    expect(good.log).toEqual(['GET /eureka/apps', 'GET /eureka/apps/delta']);
  });

  it('throws REGISTRY_UNREACHABLE when every server is down, REGISTRY_AUTH on 401', async () => {
    const c = new EurekaClient({ registry: 'e', servers: [await dead()], requestTimeoutMs: 2000 });
    await expect(c.applications()).rejects.toMatchObject({ code: 'ISTHMUS_REGISTRY_UNREACHABLE' });
    const f = await fake({ requireAuth: `Basic ${Buffer.from('eu:secret').toString('base64')}` });
    const anon = new EurekaClient({ registry: 'e', servers: [f.base], requestTimeoutMs: 2000 });
    const err: unknown = await anon.applications().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BridgeError);
    expect((err as BridgeError).code).toBe('ISTHMUS_REGISTRY_AUTH');
    expect((err as BridgeError).message).not.toContain('secret');
    const authed = new EurekaClient({ registry: 'e', servers: [f.base], credentials: { username: 'eu', password: 'secret' }, requestTimeoutMs: 2000 });
    expect((await authed.applications()).body.application).toEqual([]);
  });

  it('register, renew (404 = unknown lease), override, clear and cancel', async () => {
    const f = await fake();
    const c = new EurekaClient({ registry: 'e', servers: [f.base], requestTimeoutMs: 2000 });
    await c.register('GREETER', { instanceId: 'a', app: 'GREETER', ipAddr: '10.0.0.1', status: 'UP', port: { $: 80, '@enabled': 'true' } });
    expect(await c.renew('GREETER', 'a', '1')).toBe(true);
    expect(await c.renew('GREETER', 'nope', undefined)).toBe(false);
    expect(await c.overrideStatus('GREETER', 'a', 'OUT_OF_SERVICE')).toBe(true);
    expect(f.apps.get('GREETER')?.get('a')?.status).toBe('OUT_OF_SERVICE');
    expect(await c.clearOverride('GREETER', 'a', 'UP')).toBe(true);
    expect(f.apps.get('GREETER')?.get('a')?.status).toBe('UP');
    expect((await c.application('GREETER'))?.name).toBe('GREETER');
    await c.cancel('GREETER', 'a');
    await c.cancel('GREETER', 'a');
    expect(await c.application('GREETER')).toBeUndefined();
    expect([c.writes, c.renewals]).toEqual([5, 2]);
    expect(f.log).toContain('PUT /eureka/apps/GREETER/a?lastDirtyTimestamp=1');
  });

  it('derives the dashboard from the server URL', () => {
    expect(dashboardOf('http://h:8761/eureka')).toBe('http://h:8761/');
    expect(dashboardOf('http://h:8080/eureka/v2')).toBe('http://h:8080/eureka/');
    expect(dashboardOf('http://h:8761/registry/eureka/')).toBe('http://h:8761/registry/');
  });
});

// Nacos with auth enabled (a private 3.x server on other ports): correct credentials are exchanged
// for a token that is refreshed before it expires; wrong ones give ISTHMUS_REGISTRY_AUTH naming
// the user (never the password) and delete nothing on either side.
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { Endpoint } from '../../bridge/model/index.ts';
import { DEFAULT_POLICY } from '../../bridge/model/index.ts';
import { BridgeError } from '../../bridge/errors/index.ts';
import { Engine } from '../../bridge/sync/index.ts';
import { MemoryRegistry, MemorySink } from '../../adapters/memory/index.ts';
import { createNacosSink, createNacosSource } from '../../adapters/nacos/index.ts';
import { NativeApp, PrivateNacos, ctx, nacosOptions, nativeInstance, runId } from './nacos-support.ts';

const TOKEN_TTL_SECONDS = 8;
const WAIT = { timeout: 30_000, interval: 100 };

function ep(i: number): Endpoint {
  return { address: `10.50.0.${i}`, ports: { http: 8080 }, ready: true, serving: true, terminating: false, weight: 100, metadata: {}, origin: { registry: 'k8s', nativeId: `p-${i}` } };
}

describe('nacos with auth enabled', () => {
  const nacos = new PrivateNacos();
  const abort = new AbortController();
  const engines: Engine[] = [];
  const apps: NativeApp[] = [];
  const ref = { namespace: 'default', name: `auth-${runId()}` };

  beforeAll(async () => {
    await nacos.start(TOKEN_TTL_SECONDS);
    process.env.ISTHMUS_IT_NACOS_GOOD = nacos.password;
    process.env.ISTHMUS_IT_NACOS_BAD = 'not-the-password';
  }, 300_000);

  afterAll(async () => {
    await Promise.all(engines.map((e) => e.stop()));
    abort.abort();
    for (const a of apps) a.close();
    await nacos.stop();
  });

  const good = { auth: { username: nacos.username, passwordEnv: 'ISTHMUS_IT_NACOS_GOOD' } };
  const bad = { auth: { username: nacos.username, passwordEnv: 'ISTHMUS_IT_NACOS_BAD' } };

  it('works with correct credentials, across token expiry, and refuses an anonymous client', async () => {
    const anonymous = new NativeApp(nacos.server);
    apps.push(anonymous);
    const refused = await anonymous.put(ref, nativeInstance(ep(9))).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(BridgeError);
    expect((refused as BridgeError).code).toBe('ISTHMUS_REGISTRY_AUTH');

    const app = new NativeApp(nacos.server, good);
    apps.push(app);
    await app.put(ref, nativeInstance(ep(1)));
    const o = nacosOptions(nacos.server, { ...good, services: [ref.name] });
    const sink = createNacosSink(o, ctx('nacos', 'auth-bridge'));
    await sink.start(abort.signal);
    await sink.apply({ ref, ports: [{ name: 'http', port: 8080 }], endpoints: [ep(2), ep(3)], metadata: {}, origin: 'k8s' });
    await vi.waitFor(async () => { expect((await app.list(ref, 0)).map((i) => i.ip).sort()).toEqual(['10.50.0.1', '10.50.0.2', '10.50.0.3']); }, WAIT);

    const source = createNacosSource(o, ctx('nacos', 'auth-bridge'));
    await source.start(abort.signal);
    await vi.waitFor(() => { expect(source.get(ref)?.endpoints.map((e) => e.address)).toEqual(['10.50.0.1']); }, WAIT);

    // Past the token's lifetime: requests still succeed because the token was refreshed at half-life.
    await new Promise((r) => setTimeout(r, (TOKEN_TTL_SECONDS + 2) * 1000));
    await sink.apply({ ref, ports: [{ name: 'http', port: 8080 }], endpoints: [ep(2), ep(3), ep(4)], metadata: {}, origin: 'k8s' });
    await vi.waitFor(async () => { expect((await app.list(ref, 0)).length).toBe(4); }, WAIT);
  }, 120_000);

  it('wrong credentials: a clear auth error, and nothing is deleted on either side', async () => {
    const o = nacosOptions(nacos.server, { ...bad, services: [ref.name] });
    const sink = createNacosSink(o, ctx('nacos', 'auth-bridge'));
    await sink.start(abort.signal);
    const err = await sink.apply({ ref, ports: [], endpoints: [], metadata: {}, origin: 'k8s' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BridgeError);
    expect((err as BridgeError).code).toBe('ISTHMUS_REGISTRY_AUTH');
    expect((err as BridgeError).message).toContain(nacos.username);
    expect((err as BridgeError).message).not.toContain('not-the-password');

    // A wrong-credential source never syncs, so a route from it deletes nothing downstream.
    const source = createNacosSource(o, ctx('nacos', 'auth-bridge'));
    await source.start(abort.signal);
    const target = new MemoryRegistry();
    target.putEndpoint(ref, ep(1), { managedBy: 'auth-bridge', origin: 'nacos', originId: 'x' });
    const engine = new Engine({ bridgeId: 'auth-bridge', sources: [source], sinks: [new MemorySink('k8s', target, 'auth-bridge')], routes: [{ id: 'nacos->k8s', from: ['nacos'], to: 'k8s', select: {}, map: {}, policy: DEFAULT_POLICY }], quietMs: 5, maxDelayMs: 50 });
    engines.push(engine);
    engine.start();
    await vi.waitFor(() => { expect(source.health().lastError ?? '').toMatch(/ISTHMUS_REGISTRY_AUTH/); }, WAIT);
    await new Promise((r) => setTimeout(r, 3000));
    expect(source.hasSynced()).toBe(false);
    expect(target.service(ref)?.endpoints.size).toBe(1);
    // And the instances the good bridge wrote are all still in Nacos.
    expect((await apps[1]!.list(ref)).length).toBe(4);
  }, 60_000);
});

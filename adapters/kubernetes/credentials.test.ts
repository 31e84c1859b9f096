import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { BridgeError } from '../../bridge/errors/index.ts';
import { loadKubeConfig } from './access.ts';
import { Credentials, TOKEN_FILE_MAX_AGE_MS } from './credentials.ts';

const dir = mkdtempSync(join(tmpdir(), 'isthmus-creds-'));
afterAll(() => { rmSync(dir, { recursive: true, force: true }); });

describe('Credentials', () => {
  it('re-reads a token file at most once a minute, and at once after a 401', async () => {
    const file = join(dir, 'token');
    writeFileSync(file, 'first\n');
    let now = 1_000_000;
    const creds = new Credentials({ tokenFile: file }, undefined, () => now);
    expect((await creds.present()).authorization).toBe('Bearer first');
    writeFileSync(file, 'second');
    now += TOKEN_FILE_MAX_AGE_MS - 1;
    expect((await creds.present()).authorization).toBe('Bearer first');
    now += 1;
    expect((await creds.present()).authorization).toBe('Bearer second');
    writeFileSync(file, 'third');
    expect(creds.refused()).toBe(true);
    expect((await creds.present()).authorization).toBe('Bearer third');
  });

  it('keeps the last token while the file is briefly gone; without one it is an auth error', async () => {
    const file = join(dir, 'rotating');
    writeFileSync(file, 'kept');
    let now = 0;
    const creds = new Credentials({ tokenFile: file }, undefined, () => now);
    await creds.present();
    rmSync(file);
    now += TOKEN_FILE_MAX_AGE_MS;
    expect((await creds.present()).authorization).toBe('Bearer kept');
    const err = await new Credentials({ tokenFile: file }).present().catch((e: unknown) => e);
    expect((err as BridgeError).code).toBe('ISTHMUS_REGISTRY_AUTH');
  });

  it('a token wins over basic auth; a static token is not retried on 401', async () => {
    const both = new Credentials({ token: 't', basic: { username: 'u', password: 'p' } });
    expect(await both.present()).toEqual({ authorization: 'Bearer t' });
    expect(both.refused()).toBe(false);
    expect(await new Credentials({ basic: { username: 'u', password: 'p' } }).present()).toEqual({ authorization: `Basic ${Buffer.from('u:p').toString('base64')}` });
    expect(await new Credentials({}, { cert: Buffer.from('C'), key: Buffer.from('K') }).present()).toEqual({ cert: Buffer.from('C'), key: Buffer.from('K') });
  });
});

describe('loadKubeConfig', () => {
  const kubeconfig = (server: string): string => JSON.stringify({ clusters: [{ name: 'c', cluster: { server } }], users: [{ name: 'u', user: {} }], contexts: [{ name: 'x', context: { cluster: 'c', user: 'u' } }], 'current-context': 'x' });
  const none = join(dir, 'nowhere');

  it('explicit settings win over everything', () => {
    expect(loadKubeConfig({ server: 'https://s', token: 't', caFile: '/ca', kubeconfig: '/x' })).toEqual({ server: 'https://s', ca: { file: '/ca' }, insecureSkipTlsVerify: false, user: { token: 't' }, origin: 'settings' });
  });

  it('then the kubeconfig option, $KUBECONFIG (its first file), ~/.kube/config, the Pod, localhost:8080', () => {
    const home = join(dir, 'home');
    mkdirSync(join(home, '.kube'), { recursive: true });
    writeFileSync(join(home, '.kube', 'config'), kubeconfig('https://home'));
    writeFileSync(join(dir, 'a.yaml'), kubeconfig('https://a'));
    const sa = join(dir, 'sa');
    mkdirSync(sa);
    writeFileSync(join(sa, 'token'), 'pod-token');
    writeFileSync(join(sa, 'ca.crt'), 'CA');
    const pod = { KUBERNETES_SERVICE_HOST: 'fd00::1', KUBERNETES_SERVICE_PORT: '443' };
    const where = { env: { KUBECONFIG: `:${join(dir, 'a.yaml')}:${none}`, ...pod }, home, serviceAccountDir: sa };
    expect(loadKubeConfig({ kubeconfig: join(home, '.kube', 'config') }, where).server).toBe('https://home');
    expect(loadKubeConfig({}, where).server).toBe('https://a');
    expect(loadKubeConfig({}, { ...where, env: pod }).server).toBe('https://home');
    expect(loadKubeConfig({}, { ...where, env: pod, home: none })).toEqual({ server: 'https://[fd00::1]:443', ca: { file: join(sa, 'ca.crt') }, insecureSkipTlsVerify: false, user: { tokenFile: join(sa, 'token') }, origin: 'in-cluster' });
    expect(loadKubeConfig({}, { env: {}, home: none, serviceAccountDir: none }).server).toBe('http://localhost:8080');
  });

  it('an unreadable kubeconfig is a config error naming the file', () => {
    const err = (() => { try { return loadKubeConfig({ kubeconfig: none }); } catch (e) { return e; } })();
    expect((err as BridgeError).code).toBe('ISTHMUS_CONFIG_UNREADABLE');
    expect((err as BridgeError).message).toContain(none);
  });
});

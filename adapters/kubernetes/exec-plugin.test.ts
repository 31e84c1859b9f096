import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BridgeError } from '../../bridge/errors/index.ts';
import { ExecCredentials, parseExecCredential, runPlugin } from './exec-plugin.ts';
import type { ExecPlugin } from './kubeconfig.ts';

const dir = mkdtempSync(join(tmpdir(), 'isthmus-exec-'));
afterAll(() => { rmSync(dir, { recursive: true, force: true }); });

// The plugin: a tiny node script that counts its runs, echoes what it was given and answers with
// whatever PLUGIN_STATUS holds (so one script covers token, certificate and failure cases).
const script = join(dir, 'plugin.mjs');
writeFileSync(script, `
import { appendFileSync } from 'node:fs';
appendFileSync(process.env.RUNS, 'x');
if (process.env.PLUGIN_FAIL) { process.stderr.write('no login'); process.exit(3); }
const info = JSON.parse(process.env.KUBERNETES_EXEC_INFO);
const status = JSON.parse(process.env.PLUGIN_STATUS);
if (status.token) status.token += ':' + process.argv.slice(2).join(',') + ':' + info.spec.interactive;
process.stdout.write(JSON.stringify({ apiVersion: info.apiVersion, kind: 'ExecCredential', status }));
`);

let n = 0;
function plugin(status: Record<string, unknown>, env: Record<string, string> = {}): { p: ExecPlugin; runs: () => number } {
  const runs = join(dir, `runs-${n++}`);
  writeFileSync(runs, '');
  const p: ExecPlugin = { apiVersion: 'client.authentication.k8s.io/v1', command: process.execPath, args: [script, 'a', 'b'], env: { RUNS: runs, PLUGIN_STATUS: JSON.stringify(status), ...env }, dir };
  return { p, runs: () => readFileSync(runs, 'utf8').length };
}

describe('exec credential plugin', () => {
  it('runs the command with args, env and KUBERNETES_EXEC_INFO and reads the token', async () => {
    const { p } = plugin({ token: 'tok' });
    expect(await runPlugin(p)).toEqual({ token: 'tok:a,b:false' });
  });

  it('reads a client certificate and the expiry', async () => {
    const { p } = plugin({ clientCertificateData: 'CERT', clientKeyData: 'KEY', expirationTimestamp: '2030-01-01T00:00:00Z' });
    expect(await runPlugin(p)).toEqual({ cert: 'CERT', key: 'KEY', expiresAt: Date.parse('2030-01-01T00:00:00Z') });
  });

  it('caches until the expiry, shares one run, and runs again after a 401', async () => {
    let now = Date.parse('2030-01-01T00:00:00Z');
    const { p, runs } = plugin({ token: 't', expirationTimestamp: '2030-01-01T00:05:00Z' });
    const creds = new ExecCredentials(p, () => now);
    await Promise.all([creds.get(), creds.get(), creds.get()]);
    expect(runs()).toBe(1);
    now += 4 * 60_000;
    await creds.get();
    expect(runs()).toBe(1);
    now += 60_000; // at the expiry (within the renewal margin)
    await creds.get();
    expect(runs()).toBe(2);
    creds.invalidate();
    await creds.get();
    expect(runs()).toBe(3);
  });

  it('a failing plugin is an auth error carrying its stderr, and is retried on the next call', async () => {
    const { p, runs } = plugin({ token: 't' }, { PLUGIN_FAIL: '1' });
    const creds = new ExecCredentials(p);
    const err = await creds.get().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BridgeError);
    expect((err as BridgeError).code).toBe('ISTHMUS_REGISTRY_AUTH');
    expect((err as BridgeError).message).toContain('no login');
    await creds.get().catch(() => undefined);
    expect(runs()).toBe(2);
  });

  it('a missing command is an auth error naming it', async () => {
    const err = await runPlugin({ apiVersion: 'client.authentication.k8s.io/v1', command: join(dir, 'nope'), args: [], env: {}, dir }).catch((e: unknown) => e);
    expect((err as BridgeError).code).toBe('ISTHMUS_REGISTRY_AUTH');
    expect((err as BridgeError).message).toContain(join(dir, 'nope'));
  });

  it.each([
    ['nonsense', 'not JSON'],
    ['{"kind":"Pod"}', 'not an ExecCredential'],
    ['{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1beta1","status":{"token":"t"}}', 'asked for client.authentication.k8s.io/v1'],
    ['{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1","status":{}}', 'neither a token'],
    ['{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1","status":{"clientCertificateData":"C"}}', 'must come together'],
    ['{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1","status":{"token":"t","expirationTimestamp":"soon"}}', 'not an RFC 3339 time'],
  ])('refuses bad output: %s', (stdout, expected) => {
    expect(() => parseExecCredential(stdout, 'client.authentication.k8s.io/v1')).toThrow(expected);
  });
});

import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Type } from '@sinclair/typebox';
import { describe, expect, it } from 'vitest';
import { BridgeError } from '../../errors/index.ts';
import { SECRET_ENV, SECRET_FILE, carriesCredentials, configJsonSchema, credentialFree, formatProblem, loadConfig, parseConfig, readSecretFile } from './index.ts';
import type { ConfigProblem } from './index.ts';
import type { RegistryKinds } from './registry-kind.ts';

// Kinds whose options mark their references the way the real adapters do.
const KINDS: RegistryKinds = {
  consul: {
    optionsSchema: Type.Object({
      address: Type.String({ ...credentialFree('put the ACL token in tokenFile'), default: 'http://127.0.0.1:8500' }),
      tokenFile: Type.Optional(Type.String(SECRET_FILE)),
      tokenEnv: Type.Optional(Type.String(SECRET_ENV)),
    }),
    canSource: true,
    canSink: true,
  },
  zk: { optionsSchema: Type.Object({ servers: Type.Array(Type.String(credentialFree('use auth.credentialsFile'))) }), canSource: true, canSink: true },
};

const dir = mkdtempSync(join(tmpdir(), 'isthmus-refs-'));
function file(name: string, content: string): string {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
}

function problems(fn: () => unknown): ConfigProblem[] {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(BridgeError);
    expect((err as BridgeError).code).toBe('ISTHMUS_CONFIG_INVALID');
    return (err as BridgeError).details['problems'] as ConfigProblem[];
  }
  throw new Error('expected the config to be invalid');
}

const config = (consul: string, resolver = '') => `bridge: { id: b }
registries:
  consul: { kind: consul, ${consul} }
${resolver}`;

describe('secret files and variables', () => {
  const token = file('token', 'abc\n');
  const blank = file('blank', ' \n\t\n');
  const empty = file('empty', '');
  const missing = join(dir, 'missing');

  it('one rule everywhere: exists, readable, holds more than whitespace', () => {
    expect(readSecretFile(token)).toBe('abc');
    expect(() => readSecretFile(blank)).toThrow(`secret file "${blank}" is empty (only whitespace)`);
    expect(() => readSecretFile(empty)).toThrow(`secret file "${empty}" is empty`);
    expect(() => readSecretFile(dir)).toThrow(`cannot read secret file "${dir}" (EISDIR)`);
  });

  it('loadConfig checks every marked file with its path and line; an empty token is not "anonymous"', () => {
    for (const [path, expected] of [
      [missing, `cannot read secret file "${missing}" (ENOENT)`],
      [blank, `secret file "${blank}" is empty (only whitespace)`],
      [empty, `secret file "${empty}" is empty`],
    ] as const) {
      const found = problems(() => loadConfig(file('c.yaml', config(`tokenFile: "${path}"`)), KINDS, { env: {} }));
      expect(found).toEqual([{ path: '/registries/consul/tokenFile', message: expected, line: 3 }]);
    }
    expect(loadConfig(file('ok.yaml', config(`tokenFile: "${token}"`)), KINDS, { env: {} }).registries['consul']?.options['tokenFile']).toBe(token);
  });

  it('checks the resolver token and TLS files like the registries\' secrets', () => {
    const text = config('address: "http://c:8500"', `resolver:\n  auth: { tokenFile: "${missing}" }\n  tls: { certFile: "${token}", keyFile: "${blank}" }\n`);
    const found = problems(() => loadConfig(file('r.yaml', text), KINDS, { env: {} }));
    expect(found.map(formatProblem)).toEqual([
      `/resolver/auth/tokenFile: cannot read secret file "${missing}" (ENOENT) (line 5)`,
      `/resolver/tls/keyFile: secret file "${blank}" is empty (only whitespace) (line 6)`,
    ]);
  });

  it('names an unset or empty variable of a *Env option', () => {
    const text = config('tokenEnv: CONSUL_TOKEN');
    expect(problems(() => loadConfig(file('e.yaml', text), KINDS, { env: {} }))[0]?.message).toBe('environment variable CONSUL_TOKEN is not set');
    expect(problems(() => loadConfig(file('e.yaml', text), KINDS, { env: { CONSUL_TOKEN: ' ' } }))[0]?.message).toBe('environment variable CONSUL_TOKEN is empty');
    expect(() => loadConfig(file('e.yaml', text), KINDS, { env: { CONSUL_TOKEN: 't' } })).not.toThrow();
  });

  it('parseConfig (text that may come from another machine) leaves files alone unless asked', () => {
    const text = config(`tokenFile: "${missing}"`);
    expect(() => parseConfig(text, KINDS, { env: {} })).not.toThrow();
    expect(problems(() => parseConfig(text, KINDS, { env: {}, checkSecrets: true }))).toHaveLength(1);
  });

  it.skipIf(process.getuid?.() === 0)('reports a file it may not read', () => {
    const locked = file('locked', 'abc');
    chmodSync(locked, 0o000);
    expect(problems(() => loadConfig(file('l.yaml', config(`tokenFile: "${locked}"`)), KINDS, { env: {} }))[0]?.message).toBe(`cannot read secret file "${locked}" (EACCES)`);
  });
});

describe('addresses with credentials', () => {
  it('are refused with the path and a hint, never echoing the secret', () => {
    const found = problems(() => parseConfig(config('address: "http://admin:hunter2@10.0.0.6:8500"'), KINDS, { env: {} }));
    expect(found).toEqual([{ path: '/registries/consul/address', message: 'must not carry credentials (user:password@ or a token parameter); put the ACL token in tokenFile', line: 3 }]);
    expect(JSON.stringify(found)).not.toContain('hunter2');
    const zk = problems(() => parseConfig('bridge: { id: b }\nregistries:\n  z: { kind: zk, servers: ["zk1:2181", "u:p@zk2:2181"] }\n', KINDS, { env: {} }));
    expect(zk.map((p) => p.path)).toEqual(['/registries/z/servers/1']);
    expect(zk[0]?.message).toContain('use auth.credentialsFile');
  });

  it('tells userinfo and token parameters from ordinary addresses', () => {
    for (const bad of ['http://u:p@h:8500', 'https://token@h', 'u:p@zk1:2181,zk2:2181/chroot', 'http://h:8500/?token=abc', 'h:8848?password=x']) {
      expect(carriesCredentials(bad), bad).toBe(true);
    }
    for (const good of ['http://10.0.0.6:8500', 'https://consul.internal', 'zk1:2181,zk2:2181/app@v1', '[fe80::1]:8848', 'http://h/path?dc=dc1']) {
      expect(carriesCredentials(good), good).toBe(false);
    }
  });

  it('keeps the check keywords out of the published JSON Schema', () => {
    const text = JSON.stringify(configJsonSchema(KINDS));
    expect(text).not.toContain('x-isthmus');
  });
});

import { describe, expect, it } from 'vitest';
import { BridgeError } from '../../bridge/errors/index.ts';
import { parseKubeConfig } from './kubeconfig.ts';

const FILE = '/etc/isthmus/kube/config';
const b64 = (s: string): string => Buffer.from(s).toString('base64');

function config(user: Record<string, unknown>, cluster: Record<string, unknown> = { server: 'https://api.example:6443' }, extra: Record<string, unknown> = {}): string {
  return JSON.stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'c1', cluster }, { name: 'c2', cluster: { server: 'https://other:443' } }],
    users: [{ name: 'u1', user }, { name: 'u2', user: { token: 'two' } }],
    contexts: [{ name: 'one', context: { cluster: 'c1', user: 'u1' } }, { name: 'two', context: { cluster: 'c2', user: 'u2' } }],
    'current-context': 'one',
    ...extra,
  });
}

function problem(fn: () => unknown): BridgeError {
  try {
    fn();
  } catch (err) {
    if (err instanceof BridgeError) return err;
    throw err;
  }
  throw new Error('no error');
}

describe('parseKubeConfig', () => {
  it('follows current-context, or the chosen context', () => {
    expect(parseKubeConfig(config({ token: 't' }), FILE)).toMatchObject({ server: 'https://api.example:6443', user: { token: 't' }, insecureSkipTlsVerify: false, origin: FILE });
    expect(parseKubeConfig(config({ token: 't' }), FILE, 'two')).toMatchObject({ server: 'https://other:443', user: { token: 'two' } });
  });

  it('reads YAML too, and the cluster TLS fields; relative paths are against the file', () => {
    const yaml = `
apiVersion: v1
clusters:
- name: c
  cluster:
    server: https://10.0.0.1
    certificate-authority: pki/ca.crt
    insecure-skip-tls-verify: true
    tls-server-name: kubernetes.default
users:
- name: u
  user:
    client-certificate: /abs/client.crt
    client-key: client.key
    tokenFile: ../token
contexts:
- name: x
  context: {cluster: c, user: u}
current-context: x
`;
    expect(parseKubeConfig(yaml, FILE)).toEqual({
      server: 'https://10.0.0.1',
      ca: { file: '/etc/isthmus/kube/pki/ca.crt' },
      insecureSkipTlsVerify: true,
      tlsServerName: 'kubernetes.default',
      user: { clientCert: { file: '/abs/client.crt' }, clientKey: { file: '/etc/isthmus/kube/client.key' }, tokenFile: '/etc/isthmus/token' },
      origin: FILE,
    });
  });

  it('decodes -data fields, which win over the path', () => {
    const a = parseKubeConfig(config({ 'client-certificate-data': b64('CERT'), 'client-key-data': b64('KEY'), 'client-key': 'ignored' }, { server: 'https://s', 'certificate-authority-data': b64('CA'), 'certificate-authority': 'x' }), FILE);
    expect(a.ca).toEqual({ data: Buffer.from('CA') });
    expect(a.user.clientCert).toEqual({ data: Buffer.from('CERT') });
    expect(a.user.clientKey).toEqual({ data: Buffer.from('KEY') });
  });

  it('basic auth and exec plugins', () => {
    expect(parseKubeConfig(config({ username: 'admin', password: 'pw' }), FILE).user).toEqual({ basic: { username: 'admin', password: 'pw' } });
    const exec = { apiVersion: 'client.authentication.k8s.io/v1beta1', command: './bin/plugin', args: ['get-token'], env: [{ name: 'A', value: '1' }] };
    expect(parseKubeConfig(config({ exec }), FILE).user.exec).toEqual({ apiVersion: exec.apiVersion, command: '/etc/isthmus/kube/bin/plugin', args: ['get-token'], env: { A: '1' }, dir: '/etc/isthmus/kube' });
    expect(parseKubeConfig(config({ exec: { ...exec, command: 'aws' } }), FILE).user.exec?.command).toBe('aws');
  });

  it('refuses auth providers, naming the exec alternative', () => {
    const err = problem(() => parseKubeConfig(config({ 'auth-provider': { name: 'gcp', config: {} } }), FILE));
    expect(err.code).toBe('ISTHMUS_CONFIG_INVALID');
    expect(err.message).toContain(FILE);
    expect(err.message).toContain('users[u1].auth-provider');
    expect(err.message).toContain('"gcp"');
    expect(err.message).toContain('exec credential plugin');
  });

  it.each([
    ['not: [valid', '(document)'],
    ['- a list', '(document)'],
    [config({}, { server: 'https://s' }, { 'current-context': '' }), 'current-context'],
    [config({}, { server: 'https://s' }, { 'current-context': 'nope' }), 'contexts: no entry named "nope"'],
    [config({}, {}), 'clusters[c1].server: missing'],
    [config({}, { server: 'api:6443' }), 'is not an http(s) URL'],
    [config({ 'client-certificate': 'a.crt' }), 'users[u1].client-key: a client certificate and a client key'],
    [config({ exec: { apiVersion: 'client.authentication.k8s.io/v1alpha1', command: 'x' } }), 'users[u1].exec.apiVersion'],
    [config({ exec: { apiVersion: 'client.authentication.k8s.io/v1' } }), 'users[u1].exec.command: missing'],
    [config({ exec: { apiVersion: 'client.authentication.k8s.io/v1', command: 'x', env: [{ name: 'A' }] } }), 'users[u1].exec.env[0]'],
  ])('a config error naming the file and field: %#', (text, expected) => {
    const err = problem(() => parseKubeConfig(text, FILE));
    expect(err.code).toBe('ISTHMUS_CONFIG_INVALID');
    expect(err.message).toContain(`kubeconfig ${FILE}: `);
    expect(err.message).toContain(expected);
  });
});

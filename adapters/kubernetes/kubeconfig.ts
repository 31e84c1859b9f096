// Pure kubeconfig parsing: text in, the one cluster + user the chosen context names out. No file is
// read here (paths are only resolved against the kubeconfig's directory), so every rule is unit
// testable with fixtures; access.ts does the reading.
import { dirname, isAbsolute, resolve } from 'node:path';
import { parse } from 'yaml';
import { BridgeError } from '../../bridge/errors/index.ts';

/** A PEM blob given inline (base64 in the file, decoded here) or as a path to read. */
export type Pem = { readonly data: Buffer } | { readonly file: string };

export interface ExecPlugin {
  readonly apiVersion: 'client.authentication.k8s.io/v1' | 'client.authentication.k8s.io/v1beta1';
  readonly command: string;
  readonly args: readonly string[];
  readonly env: Readonly<Record<string, string>>;
  /** Relative commands are resolved by kubectl against the kubeconfig's directory; so do we. */
  readonly dir: string;
}

export interface UserAuth {
  readonly token?: string;
  readonly tokenFile?: string;
  readonly clientCert?: Pem;
  readonly clientKey?: Pem;
  readonly basic?: { readonly username: string; readonly password: string };
  readonly exec?: ExecPlugin;
}

/** Everything needed to reach and authenticate to one API server. */
export interface ClusterAccess {
  readonly server: string;
  readonly ca?: Pem;
  readonly insecureSkipTlsVerify: boolean;
  readonly tlsServerName?: string;
  readonly user: UserAuth;
  /** Where this came from, for error messages: a file path, `in-cluster` or `settings`. */
  readonly origin: string;
}

const EXEC_VERSIONS = new Set(['client.authentication.k8s.io/v1', 'client.authentication.k8s.io/v1beta1']);

/** Parses kubeconfig `text` read from `file` and resolves `context` (absent: current-context). */
export function parseKubeConfig(text: string, file: string, context?: string): ClusterAccess {
  const fail = (field: string, problem: string): never => {
    throw new BridgeError('ISTHMUS_CONFIG_INVALID', `kubeconfig ${file}: ${field}: ${problem}`, { terminal: true, details: { file, field } });
  };
  let doc: unknown;
  try {
    doc = parse(text);
  } catch (err) {
    return fail('(document)', `not valid YAML (${err instanceof Error ? err.message : String(err)})`);
  }
  if (!isRecord(doc)) return fail('(document)', 'not a mapping');
  const dir = dirname(resolve(file));
  const name = context ?? str(doc['current-context']);
  if (name === undefined || name === '') return fail('current-context', 'not set, and no context was chosen (connection.context)');
  const ctxEntry = named(doc, 'contexts', name, 'context', fail);
  const clusterName = str(ctxEntry['cluster']) ?? fail(`contexts[${name}].cluster`, 'missing');
  const userName = str(ctxEntry['user']);
  const cluster = named(doc, 'clusters', clusterName, 'cluster', fail);
  const at = `clusters[${clusterName}]`;
  const server = str(cluster['server']);
  if (server === undefined || server === '') return fail(`${at}.server`, 'missing');
  if (!/^https?:\/\//.test(server)) return fail(`${at}.server`, `"${server}" is not an http(s) URL`);
  const ca = pem(cluster, 'certificate-authority', dir, at, fail);
  const tlsServerName = str(cluster['tls-server-name']);
  const user = userName === undefined || userName === '' ? {} : parseUser(named(doc, 'users', userName, 'user', fail), dir, `users[${userName}]`, fail);
  return {
    server,
    ...(ca === undefined ? {} : { ca }),
    insecureSkipTlsVerify: cluster['insecure-skip-tls-verify'] === true,
    ...(tlsServerName === undefined ? {} : { tlsServerName }),
    user,
    origin: file,
  };
}

type Fail = (field: string, problem: string) => never;

function parseUser(u: Record<string, unknown>, dir: string, at: string, fail: Fail): UserAuth {
  if (u['auth-provider'] !== undefined) {
    const provider = isRecord(u['auth-provider']) ? str(u['auth-provider']['name']) : undefined;
    // gcp/azure/oidc auth providers were removed from client-go; their replacements are exec plugins.
    return fail(`${at}.auth-provider`, `"${provider ?? '?'}" auth providers are not supported (deprecated upstream); use an exec credential plugin instead (e.g. gke-gcloud-auth-plugin, kubelogin)`);
  }
  const token = str(u['token']);
  const tokenFile = str(u['tokenFile']);
  const clientCert = pem(u, 'client-certificate', dir, at, fail);
  const clientKey = pem(u, 'client-key', dir, at, fail);
  if ((clientCert === undefined) !== (clientKey === undefined)) fail(`${at}.client-key`, 'a client certificate and a client key must be given together');
  const username = str(u['username']);
  const password = str(u['password']);
  const exec = u['exec'] === undefined ? undefined : parseExec(u['exec'], dir, `${at}.exec`, fail);
  return {
    ...(token === undefined || token === '' ? {} : { token }),
    ...(tokenFile === undefined || tokenFile === '' ? {} : { tokenFile: abs(dir, tokenFile) }),
    ...(clientCert === undefined ? {} : { clientCert }),
    ...(clientKey === undefined ? {} : { clientKey }),
    ...(username === undefined ? {} : { basic: { username, password: password ?? '' } }),
    ...(exec === undefined ? {} : { exec }),
  };
}

function parseExec(raw: unknown, dir: string, at: string, fail: Fail): ExecPlugin {
  if (!isRecord(raw)) return fail(at, 'not a mapping');
  const apiVersion = str(raw['apiVersion']);
  if (apiVersion === undefined || !EXEC_VERSIONS.has(apiVersion)) return fail(`${at}.apiVersion`, `"${apiVersion ?? ''}" is not supported (use client.authentication.k8s.io/v1 or v1beta1)`);
  const command = str(raw['command']);
  if (command === undefined || command === '') return fail(`${at}.command`, 'missing');
  const args = raw['args'] ?? [];
  if (!Array.isArray(args) || !args.every((a) => typeof a === 'string')) return fail(`${at}.args`, 'must be a list of strings');
  const env: Record<string, string> = {};
  const list = raw['env'] ?? [];
  if (!Array.isArray(list)) return fail(`${at}.env`, 'must be a list of {name, value}');
  for (const [i, e] of list.entries()) {
    const key = isRecord(e) ? str(e['name']) : undefined;
    const value = isRecord(e) ? str(e['value']) : undefined;
    if (key === undefined || value === undefined) return fail(`${at}.env[${i}]`, 'needs a string name and value');
    env[key] = value;
  }
  // A bare name is looked up on PATH; only a path with a separator is relative to the kubeconfig.
  const resolved = command.includes('/') ? abs(dir, command) : command;
  return { apiVersion: apiVersion as ExecPlugin['apiVersion'], command: resolved, args, env, dir };
}

/** `<field>-data` (base64, wins, as in kubectl) or `<field>` (a path). */
function pem(o: Record<string, unknown>, field: string, dir: string, at: string, fail: Fail): Pem | undefined {
  const data = str(o[`${field}-data`]);
  if (data !== undefined && data !== '') {
    const bytes = Buffer.from(data, 'base64');
    if (bytes.length === 0) return fail(`${at}.${field}-data`, 'not base64');
    return { data: bytes };
  }
  const path = str(o[field]);
  return path === undefined || path === '' ? undefined : { file: abs(dir, path) };
}

/** The `<kind>` body of the entry of list `key` called `name`. */
function named(doc: Record<string, unknown>, key: string, name: string, kind: string, fail: Fail): Record<string, unknown> {
  const list = doc[key];
  if (list !== undefined && list !== null && !Array.isArray(list)) fail(key, 'not a list');
  const entry = (Array.isArray(list) ? list : []).find((e: unknown) => isRecord(e) && e['name'] === name) as Record<string, unknown> | undefined;
  if (entry === undefined) return fail(key, `no entry named "${name}"`);
  const body = entry[kind] ?? {};
  if (!isRecord(body)) return fail(`${key}[${name}].${kind}`, 'not a mapping');
  return body;
}

function abs(dir: string, path: string): string {
  return isAbsolute(path) ? path : resolve(dir, path);
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

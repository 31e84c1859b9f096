// Where the API server and our credentials come from: explicit settings, a kubeconfig file, or the
// Pod's ServiceAccount. The order is the one client-node's loadFromDefault had, so existing
// deployments resolve to the same cluster.
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, join } from 'node:path';
import { BridgeError } from '../../bridge/errors/index.ts';
import { parseKubeConfig, type ClusterAccess, type Pem } from './kubeconfig.ts';

export interface ConnectionSettings {
  readonly kubeconfig?: string;
  readonly context?: string;
  /** Explicit server/token/CA (tests, and token-only setups); wins over kubeconfig. */
  readonly server?: string;
  readonly token?: string;
  readonly caFile?: string;
}

export const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

/** Where to look; a parameter so tests need neither a home directory nor a Pod. */
export interface Environment {
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly home: string;
  readonly serviceAccountDir: string;
}

const PROCESS: () => Environment = () => ({ env: process.env, home: homedir(), serviceAccountDir: SERVICE_ACCOUNT_DIR });

/**
 * Explicit `server` → that; `kubeconfig` → that file; `$KUBECONFIG` → its first file (client-node
 * merged the rest in; we read only the first); `~/.kube/config`; in-cluster ServiceAccount; else
 * http://localhost:8080 without credentials (client-node's last resort, kept).
 */
export function loadKubeConfig(s: ConnectionSettings, where: Environment = PROCESS()): ClusterAccess {
  if (s.server !== undefined) {
    return {
      server: s.server,
      ...(s.caFile === undefined ? {} : { ca: { file: s.caFile } }),
      insecureSkipTlsVerify: false,
      user: s.token === undefined ? {} : { token: s.token },
      origin: 'settings',
    };
  }
  if (s.kubeconfig !== undefined) return fromFile(s.kubeconfig, s.context);
  const first = (where.env['KUBECONFIG'] ?? '').split(delimiter).find((f) => f !== '');
  if (first !== undefined) return fromFile(first, s.context);
  const home = join(where.home, '.kube', 'config');
  if (where.home !== '' && existsSync(home)) return fromFile(home, s.context);
  const tokenFile = join(where.serviceAccountDir, 'token');
  if (existsSync(tokenFile)) return inCluster(where, tokenFile);
  return { server: 'http://localhost:8080', insecureSkipTlsVerify: false, user: {}, origin: 'default (no kubeconfig, not in a Pod)' };
}

function fromFile(file: string, context: string | undefined): ClusterAccess {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new BridgeError('ISTHMUS_CONFIG_UNREADABLE', `kubeconfig ${file}: ${err instanceof Error ? err.message : String(err)}`, { cause: err, terminal: true, details: { file } });
  }
  return parseKubeConfig(text, file, context);
}

function inCluster(where: Environment, tokenFile: string): ClusterAccess {
  const host = where.env['KUBERNETES_SERVICE_HOST'];
  const port = where.env['KUBERNETES_SERVICE_PORT'];
  if (host === undefined || host === '' || port === undefined || port === '') {
    throw new BridgeError('ISTHMUS_CONFIG_INVALID', `in-cluster: ${tokenFile} exists but KUBERNETES_SERVICE_HOST/KUBERNETES_SERVICE_PORT are not set; set connection.kubeconfig`, { terminal: true });
  }
  const ca = join(where.serviceAccountDir, 'ca.crt');
  return {
    server: `https://${host.includes(':') ? `[${host}]` : host}:${port}`,
    ...(existsSync(ca) ? { ca: { file: ca } } : {}),
    insecureSkipTlsVerify: false,
    // Bound tokens rotate: the file is re-read per request (at most once a minute), never copied.
    user: { tokenFile },
    origin: 'in-cluster',
  };
}

/** The bytes of a PEM, read once when the client is built (a config error if unreadable). */
export function readPem(pem: Pem, what: string, origin: string): Buffer {
  if ('data' in pem) return pem.data;
  try {
    return readFileSync(pem.file);
  } catch (err) {
    throw new BridgeError('ISTHMUS_CONFIG_UNREADABLE', `kubeconfig ${origin}: ${what} ${pem.file}: ${err instanceof Error ? err.message : String(err)}`, { cause: err, terminal: true, details: { file: pem.file } });
  }
}

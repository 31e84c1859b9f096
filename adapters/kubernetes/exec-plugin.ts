// client.authentication.k8s.io exec credential plugins (gke-gcloud-auth-plugin, aws-iam-authenticator,
// kubelogin…): run the command, read an ExecCredential from its stdout, keep it until it expires.
import { execFile } from 'node:child_process';
import { BridgeError } from '../../bridge/errors/index.ts';
import type { ExecPlugin } from './kubeconfig.ts';

export interface ExecCredential {
  readonly token?: string;
  readonly cert?: string;
  readonly key?: string;
  /** ms since the epoch; absent = valid until the server refuses it. */
  readonly expiresAt?: number;
}

// A plugin may open a browser or call a cloud API; a minute is generous, forever is not.
const PLUGIN_TIMEOUT_MS = 60_000;
// Renew a little early so a request does not leave with a credential that expires on the way.
const EXPIRY_MARGIN_MS = 10_000;

/** Runs the plugin when there is no credential or it expired; concurrent callers share one run. */
export class ExecCredentials {
  readonly #plugin: ExecPlugin;
  readonly #now: () => number;
  #current: ExecCredential | undefined;
  #running: Promise<ExecCredential> | undefined;

  constructor(plugin: ExecPlugin, now: () => number = Date.now) {
    this.#plugin = plugin;
    this.#now = now;
  }

  async get(): Promise<ExecCredential> {
    const c = this.#current;
    if (c !== undefined && (c.expiresAt === undefined || c.expiresAt - EXPIRY_MARGIN_MS > this.#now())) return c;
    this.#running ??= runPlugin(this.#plugin).then(
      (fresh) => { this.#current = fresh; this.#running = undefined; return fresh; },
      (err: unknown) => { this.#running = undefined; throw err; },
    );
    return this.#running;
  }

  /** The server refused the credential (401): forget it so the next get() runs the plugin again. */
  invalidate(): void {
    this.#current = undefined;
  }
}

export function runPlugin(p: ExecPlugin): Promise<ExecCredential> {
  const info = { apiVersion: p.apiVersion, kind: 'ExecCredential', spec: { interactive: false } };
  const env = { ...process.env, ...p.env, KUBERNETES_EXEC_INFO: JSON.stringify(info) };
  return new Promise((resolve, reject) => {
    execFile(p.command, [...p.args], { env, timeout: PLUGIN_TIMEOUT_MS, maxBuffer: 1 << 20, encoding: 'utf8' }, (err, stdout, stderr) => {
      if (err !== null) {
        const why = stderr.trim().slice(0, 500);
        reject(authError(p, `${err.message}${why === '' || err.message.includes(why) ? '' : `: ${why}`}`, err));
        return;
      }
      try {
        resolve(parseExecCredential(stdout, p.apiVersion));
      } catch (e) {
        reject(authError(p, e instanceof Error ? e.message : String(e), e));
      }
    });
  });
}

/** Reads the plugin's stdout; throws a plain Error naming what is wrong. */
export function parseExecCredential(stdout: string, apiVersion: string): ExecCredential {
  let doc: unknown;
  try {
    doc = JSON.parse(stdout);
  } catch {
    throw new Error('its output is not JSON (an ExecCredential was expected)');
  }
  const d = doc as { kind?: unknown; apiVersion?: unknown; status?: Record<string, unknown> } | null;
  if (d === null || typeof d !== 'object' || d.kind !== 'ExecCredential') throw new Error('its output is not an ExecCredential');
  if (d.apiVersion !== apiVersion) throw new Error(`it answered ${String(d.apiVersion)}, the kubeconfig asked for ${apiVersion}`);
  const s = d.status ?? {};
  const token = typeof s['token'] === 'string' && s['token'] !== '' ? s['token'] : undefined;
  const cert = typeof s['clientCertificateData'] === 'string' ? s['clientCertificateData'] : undefined;
  const key = typeof s['clientKeyData'] === 'string' ? s['clientKeyData'] : undefined;
  if ((cert === undefined) !== (key === undefined)) throw new Error('status.clientCertificateData and status.clientKeyData must come together');
  if (token === undefined && cert === undefined) throw new Error('status has neither a token nor a client certificate');
  let expiresAt: number | undefined;
  if (s['expirationTimestamp'] !== undefined) {
    expiresAt = typeof s['expirationTimestamp'] === 'string' ? Date.parse(s['expirationTimestamp']) : NaN;
    if (Number.isNaN(expiresAt)) throw new Error(`status.expirationTimestamp ${JSON.stringify(s['expirationTimestamp'])} is not an RFC 3339 time`);
  }
  return { ...(token === undefined ? {} : { token }), ...(cert === undefined || key === undefined ? {} : { cert, key }), ...(expiresAt === undefined ? {} : { expiresAt }) };
}

function authError(p: ExecPlugin, why: string, cause: unknown): BridgeError {
  return new BridgeError('ISTHMUS_REGISTRY_AUTH', `kubernetes: exec credential plugin ${p.command}: ${why}`, { cause, details: { command: p.command } });
}

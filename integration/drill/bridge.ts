// Isthmus itself, run the way an operator runs it: `isthmus run --config <file>` as a child
// process, ready when its /readyz answers 200, stopped with SIGTERM, and its writes removed
// afterwards with `isthmus cleanup` so the shared servers are left as they were found.
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { cliArgs } from '../process/compiled-cli.ts';
import { getJson, waitFor } from './net.ts';

const REPO = join(import.meta.dirname, '..', '..');

export interface DrillBridgeConfig {
  readonly bridgeId: string;
  readonly kubeconfig: string;
  readonly namespace: string;
  /** Registry id of the VM registry, and its registry entry. */
  readonly vmId: string;
  readonly vmRegistry: Record<string, unknown>;
  readonly service: string;
  readonly httpPort: number;
}

/**
 * Both directions for one service: pods in the drill namespace go to the VM registry, the
 * service's VM instances there come into the same namespace (and, as allowed by the Service's
 * accept-imports annotation, into the same Service). The delete guard is opened on the import
 * route because retiring the last VM provider is a 100 % shrink that the guard would otherwise
 * hold for two minutes, leaving a dead address in the slices: an operator doing a planned
 * migration sets exactly this.
 */
export function bridgeConfig(c: DrillBridgeConfig): Record<string, unknown> {
  return {
    bridge: { id: c.bridgeId },
    registries: {
      k8s: { kind: 'kubernetes', connection: { kubeconfig: c.kubeconfig }, namespaces: [c.namespace], sink: { mixed: 'annotated' } },
      [c.vmId]: c.vmRegistry,
    },
    routes: [
      { from: 'k8s', to: c.vmId, select: { namespaces: [c.namespace] } },
      { from: c.vmId, to: 'k8s', select: { services: [c.service] }, policy: { deleteGuard: { maxShrinkPercent: 100, registryEmpty: 'propagate' } } },
    ],
    // gRPC off: its fixed default port would collide with any other bridge on the machine.
    resolver: { http: { host: '127.0.0.1', port: c.httpPort }, grpc: { enabled: false } },
    // debug: one line per reconcile and sink write, so a failed drill shows what the bridge did.
    log: { level: 'debug' },
  };
}

export class BridgeProcess {
  readonly configPath: string;
  readonly #child: ChildProcess;
  readonly #exited: Promise<number | null>;
  readonly #baseUrl: string;
  /** The resolver's bearer token: runtime weight changes are refused without one. */
  readonly token: string;

  private constructor(configPath: string, child: ChildProcess, baseUrl: string, token: string) {
    this.configPath = configPath;
    this.#child = child;
    this.#baseUrl = baseUrl;
    this.token = token;
    this.#exited = new Promise((resolve) => child.on('exit', (code) => { resolve(code); }));
  }

  static async start(config: Record<string, unknown>, workDir: string): Promise<BridgeProcess> {
    const configPath = join(workDir, 'isthmus.yaml');
    const token = randomBytes(24).toString('hex');
    const tokenFile = join(workDir, 'resolver-token');
    await writeFile(tokenFile, token, { mode: 0o600 });
    const resolver = { ...(config.resolver as Record<string, unknown>), auth: { tokenFile } };
    await writeFile(configPath, stringify({ ...config, resolver }));
    const log = createWriteStream(join(workDir, 'isthmus.log'), { flags: 'a' });
    // node itself (the compiled CLI, or `node --import tsx`), not a wrapper: a signal reaches the bridge.
    const child = spawn(process.execPath, [...cliArgs(), 'run', '--config', configPath], { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.pipe(log, { end: false });
    child.stderr.pipe(log, { end: false });
    process.on('exit', () => child.kill('SIGKILL'));
    const port = ((config.resolver as { http: { port: number } }).http).port;
    const bridge = new BridgeProcess(configPath, child, `http://127.0.0.1:${port}`, token);
    await waitFor('isthmus /readyz', async () => {
      if (child.exitCode !== null) throw new Error(`isthmus exited with ${child.exitCode}; see ${join(workDir, 'isthmus.log')}`);
      const { status } = await getJson(`${bridge.#baseUrl}/readyz`, 2000);
      return status === 200 ? true : undefined;
    }, 120_000, 250);
    return bridge;
  }

  get baseUrl(): string {
    return this.#baseUrl;
  }

  /**
   * Writes what the bridge says about `service` (its summary, and where each endpoint came from
   * and what each sink did) to bridge-status.json in `workDir`: a failed drill step then shows
   * whether the bridge saw the change, wrote it, or held it. Best effort: a bridge that does not
   * answer is written down as such.
   */
  async saveStatus(workDir: string, ref: { namespace: string; name: string }): Promise<void> {
    const read = async (path: string): Promise<unknown> => {
      try {
        const res = await fetch(`${this.#baseUrl}${path}`, { headers: { authorization: `Bearer ${this.token}` }, signal: AbortSignal.timeout(5000) });
        return { status: res.status, body: await res.json() };
      } catch (error) {
        return { error: (error as Error).message };
      }
    };
    const at = new Date().toISOString();
    const summary = await read('/v1/status');
    const service = await read(`/v1/status/${encodeURIComponent(ref.namespace)}/${encodeURIComponent(ref.name)}`);
    await writeFile(join(workDir, 'bridge-status.json'), `${JSON.stringify({ at, summary, service }, null, 2)}\n`).catch(() => undefined);
  }

  async stop(): Promise<number | null> {
    if (this.#child.exitCode === null) this.#child.kill('SIGTERM');
    return this.#exited;
  }
}

/** `isthmus cleanup --yes`: removes what this bridge id wrote (Consul node, imported slices). */
export function cleanupBridge(configPath: string): Promise<number | null> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [...cliArgs(), 'cleanup', '--config', configPath, '--yes'], { cwd: REPO, stdio: 'ignore' });
    child.on('exit', (code) => { resolve(code); });
    child.on('error', () => { resolve(null); });
  });
}

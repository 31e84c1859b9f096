// The real istiod (`pilot-discovery discovery`) as a child process of a test, outside any cluster:
// it reads the harness kube-apiserver through a kubeconfig, serves plaintext xDS and its debug
// endpoints on free loopback ports, and logs to a file. Everything that needs in-cluster trust
// (its CA, the injection and validation webhooks, the TLS xDS port) is turned off: the tests only
// ask what istiod made of our objects and let proxyless gRPC clients consume its xDS.
import { type ChildProcess, spawn } from 'node:child_process';
import { createWriteStream, type WriteStream } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { freePort } from '../drill/net.ts';
import { tailFile } from '../servers/log-tail.ts';

const LOOPBACK = '127.0.0.1';

export interface IstiodOptions {
  readonly binary: string;
  readonly kubeconfig: string;
  /** Directory for the mesh config file and istiod.log. */
  readonly dir: string;
  /** istiod's own namespace (leader election, root namespace); created by the caller. */
  readonly namespace?: string;
  readonly startTimeoutMs?: number;
  /** Extra environment (feature flags); wins over the defaults set here. */
  readonly env?: Readonly<Record<string, string>>;
}

/** Mesh config: the discovery address proxies would be told (our plaintext port), defaults otherwise. */
export function meshConfigYaml(namespace: string, grpcPort: number): string {
  return [
    `rootNamespace: ${namespace}`,
    'trustDomain: cluster.local',
    'enableAutoMtls: true',
    'defaultConfig:',
    `  discoveryAddress: 127.0.0.1:${grpcPort}`,
    '',
  ].join('\n');
}

/**
 * Feature flags for istiod outside a cluster. The defaults that matter to what we test are left
 * alone and restated for the reader: a Kubernetes Service with a selector selects WorkloadEntries.
 */
export function istiodEnv(namespace: string): Record<string, string> {
  return {
    POD_NAMESPACE: namespace,
    POD_NAME: 'istiod-test',
    PILOT_ENABLE_K8S_SELECT_WORKLOAD_ENTRIES: 'true',
    // No CA and no istiod certificates: nothing here could trust them, and the CA would write
    // istio-ca-root-cert ConfigMaps into every namespace of the shared apiserver.
    ENABLE_CA_SERVER: 'false',
    PILOT_CERT_PROVIDER: 'none',
    // No webhooks: the apiserver cannot call back into a process on the test's loopback.
    INJECT_ENABLED: 'false',
    VALIDATION_WEBHOOK_CONFIG_NAME: '',
    // Gateway API CRDs are not installed in the harness.
    PILOT_ENABLE_GATEWAY_API: 'false',
    PILOT_ENABLE_GATEWAY_API_STATUS: 'false',
    PILOT_ENABLE_GATEWAY_API_DEPLOYMENT_CONTROLLER: 'false',
    // One istiod, no Lease to contend for: leader-only controllers start at once.
    ENABLE_LEADER_ELECTION: 'false',
  };
}

export class Istiod {
  readonly xdsAddress: string;
  readonly httpUrl: string;
  readonly logPath: string;
  readonly #child: ChildProcess;
  readonly #exited: Promise<number | null>;
  readonly #log: WriteStream;

  private constructor(child: ChildProcess, log: WriteStream, logPath: string, grpcPort: number, httpPort: number) {
    this.#child = child;
    this.#log = log;
    this.logPath = logPath;
    this.xdsAddress = `${LOOPBACK}:${grpcPort}`;
    this.httpUrl = `http://${LOOPBACK}:${httpPort}`;
    this.#exited = new Promise((resolve) => child.once('exit', (code) => { resolve(code); }));
  }

  static async start(opts: IstiodOptions): Promise<Istiod> {
    const namespace = opts.namespace ?? 'istio-system';
    const [grpcPort, httpPort, monitoringPort, ctrlzPort] = [await freePort(LOOPBACK), await freePort(LOOPBACK), await freePort(LOOPBACK), await freePort(LOOPBACK)];
    await mkdir(opts.dir, { recursive: true });
    const meshFile = join(opts.dir, 'mesh.yaml');
    await writeFile(meshFile, meshConfigYaml(namespace, grpcPort));
    const logPath = join(opts.dir, 'istiod.log');
    const log = createWriteStream(logPath, { flags: 'a' });
    const args = [
      'discovery',
      `--kubeconfig=${opts.kubeconfig}`,
      `--meshConfig=${meshFile}`,
      `--networksConfig=${join(opts.dir, 'mesh-networks.yaml')}`,
      `--namespace=${namespace}`,
      '--domain=cluster.local',
      `--grpcAddr=127.0.0.1:${grpcPort}`,
      '--secureGRPCAddr=',
      `--httpAddr=127.0.0.1:${httpPort}`,
      '--httpsAddr=',
      `--monitoringAddr=127.0.0.1:${monitoringPort}`,
      '--ctrlz_address=127.0.0.1',
      `--ctrlz_port=${ctrlzPort}`,
      '--shutdownDuration=1s',
      '--log_output_level=default:info',
    ];
    const child = spawn(opts.binary, args, {
      cwd: opts.dir,
      env: { PATH: process.env['PATH'] ?? '/usr/bin:/bin', HOME: opts.dir, ...istiodEnv(namespace), ...opts.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout.pipe(log, { end: false });
    child.stderr.pipe(log, { end: false });
    const istiod = new Istiod(child, log, logPath, grpcPort, httpPort);
    try {
      await istiod.#waitReady(opts.startTimeoutMs ?? 120_000);
    } catch (err) {
      await istiod.stop();
      throw new Error(`${(err as Error).message}\n--- ${logPath} ---\n${await tailFile(logPath)}`);
    }
    return istiod;
  }

  /** `/ready` answers 200 once istiod's caches have synced and it can serve xDS. */
  async #waitReady(timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let exited: number | null | undefined;
    void this.#exited.then((code) => { exited = code; });
    for (;;) {
      if (exited !== undefined) throw new Error(`istiod exited with ${exited} before ready`);
      try {
        const res = await fetch(`${this.httpUrl}/ready`, { signal: AbortSignal.timeout(2_000) });
        if (res.status === 200) return;
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline) throw new Error(`istiod not ready within ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 250));
    }
  }

  /** A debug endpoint's JSON (`/debug/endpointShardz`, `/debug/configz`, ...). */
  async debug<T = unknown>(path: string): Promise<T> {
    const res = await fetch(`${this.httpUrl}${path}`, { signal: AbortSignal.timeout(10_000) });
    if (!res.ok) throw new Error(`istiod ${path}: ${res.status} ${await res.text()}`);
    return (await res.json()) as T;
  }

  /** SIGTERM, then SIGKILL if istiod has not left within `graceMs`; resolves with the exit code. */
  async stop(graceMs = 10_000): Promise<number | null> {
    if (this.#child.exitCode === null && this.#child.signalCode === null) {
      this.#child.kill('SIGTERM');
      const timer = setTimeout(() => this.#child.kill('SIGKILL'), graceMs);
      await this.#exited;
      clearTimeout(timer);
    }
    const code = await this.#exited;
    await new Promise<void>((resolve) => this.#log.end(resolve));
    return code;
  }
}

// Starts and stops the Spring peer JVMs for the drill: small heaps and C1 only, because up to
// eight of them share a loaded 2-core box with the registries and the bridge.
import { type ChildProcess, spawn } from 'node:child_process';
import { createWriteStream, type WriteStream } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { createInterface } from 'node:readline';
import { launchArgs } from './cds.ts';

export const JVM_FLAGS = ['-Xmx128m', '-Xss512k', '-XX:TieredStopAtLevel=1', '-XX:+UseSerialGC', '-XX:CICompilerCount=1'] as const;

export type Framework = 'consul' | 'nacos' | 'eureka';
export type Role = 'provider' | 'consumer';

export interface PeerSpec {
  readonly jar: string;
  readonly role: Role;
  /** A registry framework, or 'pod' for a provider known only through EndpointSlices. */
  readonly discovery: Framework | 'pod';
  /** Extra Spring properties, passed as --key=value. */
  readonly properties: Readonly<Record<string, string | number>>;
  readonly logPath: string;
}

/** Every JVM this process started; killed if the process exits without stopping them. */
const live = new Set<ChildProcess>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const child of live) child.kill('SIGKILL');
  });
}

export class PeerJvm {
  readonly spec: PeerSpec;
  readonly #child: ChildProcess;
  readonly #log: WriteStream;
  readonly #exited: Promise<number | null>;
  #lineListeners: ((line: string) => void)[] = [];
  readonly #callsStopped: Promise<number>;
  #onCallsStopped: (calls: number) => void = () => undefined;

  private constructor(spec: PeerSpec, child: ChildProcess, log: WriteStream) {
    this.spec = spec;
    this.#child = child;
    this.#log = log;
    this.#callsStopped = new Promise((resolve) => { this.#onCallsStopped = resolve; });
    this.#exited = new Promise((resolve) => {
      child.on('exit', (code, signal) => {
        live.delete(child);
        log.write(`\n[exit code=${code} signal=${signal}]\n`);
        resolve(code);
      });
    });
    createInterface({ input: child.stdout! }).on('line', (line) => {
      if (line.startsWith('CALL ')) {
        for (const listen of this.#lineListeners) listen(line.slice(5));
      } else if (line.startsWith('STOPPED ')) {
        log.write(`${line}\n`);
        this.#onCallsStopped(Number((JSON.parse(line.slice(8)) as { calls?: unknown }).calls ?? Number.NaN));
      } else {
        log.write(`${line}\n`);
      }
    });
    child.stderr!.pipe(log, { end: false });
  }

  static async start(spec: PeerSpec): Promise<PeerJvm> {
    installExitHook();
    await mkdir(dirname(spec.logPath), { recursive: true });
    const log = createWriteStream(spec.logPath, { flags: 'a' });
    const profiles = [spec.role, spec.discovery].join(',');
    const args = [...JVM_FLAGS, ...launchArgs(spec.jar), `--spring.profiles.active=${profiles}`, ...Object.entries(spec.properties).map(([k, v]) => `--${k}=${v}`)];
    log.write(`$ java ${args.join(' ')}\n`);
    const child = spawn('java', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    live.add(child);
    return new PeerJvm(spec, child, log);
  }

  get pid(): number | undefined {
    return this.#child.pid;
  }

  get running(): boolean {
    return this.#child.exitCode === null && this.#child.signalCode === null;
  }

  /** Consumer output: the JSON text of each `CALL` line. */
  onCall(listener: (json: string) => void): void {
    this.#lineListeners.push(listener);
  }

  /**
   * Stops a consumer's call loop (started with `peer.stop-file` = `stopFile`) and resolves with
   * the number of calls it made once the last one has been printed; undefined when the JVM did
   * not confirm within `timeoutMs` (or had exited).
   */
  async stopCalls(stopFile: string, timeoutMs = 10_000): Promise<number | undefined> {
    await writeFile(stopFile, 'stop\n');
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<undefined>((resolve) => { timer = setTimeout(resolve, timeoutMs, undefined); });
    const calls = await Promise.race([this.#callsStopped, late, this.#exited.then(() => undefined)]);
    clearTimeout(timer);
    return calls;
  }

  exited(): Promise<number | null> {
    return this.#exited;
  }

  /**
   * SIGTERM, as an init system or the kubelet sends it: the JVM runs Spring's shutdown (the
   * provider deregisters, drains, then closes). SIGKILL only if it outlives `graceMs`.
   */
  async stop(graceMs = 30_000): Promise<{ code: number | null; ms: number; killed: boolean }> {
    const started = Date.now();
    if (!this.running) return { code: await this.#exited, ms: 0, killed: false };
    this.#child.kill('SIGTERM');
    let killed = false;
    const timer = setTimeout(() => {
      killed = true;
      this.#child.kill('SIGKILL');
    }, graceMs);
    const code = await this.#exited;
    clearTimeout(timer);
    await new Promise<void>((resolve) => this.#log.end(resolve));
    return { code, ms: Date.now() - started, killed };
  }
}

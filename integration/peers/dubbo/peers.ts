// Builds and runs our real Dubbo 3.3 peers (provider and consumer on ZooKeeper). The build is
// cached under ~/.cache/isthmus/peers/dubbo-<hash of pom and sources>, with the harness's local
// Maven repository; once anything was built, Maven runs offline (-o).
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createWriteStream, existsSync } from 'node:fs';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { cacheDir } from '../../servers/paths.ts';

const exec = promisify(execFile);
const PROJECT = dirname(fileURLToPath(import.meta.url));

async function sourceFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...(await sourceFiles(p)));
    else out.push(p);
  }
  return out.sort();
}

/** ~/.cache/isthmus/peers (beside the servers cache). */
export function peersCacheDir(): string {
  return join(dirname(cacheDir()), 'peers');
}

/** Builds the peers when their pom or sources changed; returns the Java classpath. */
export async function buildDubboPeers(log: (line: string) => void = () => undefined): Promise<string> {
  const hash = createHash('sha256');
  for (const f of [join(PROJECT, 'pom.xml'), ...(await sourceFiles(join(PROJECT, 'src')))]) {
    hash.update(relative(PROJECT, f)).update('\0').update(await readFile(f)).update('\0');
  }
  const out = join(peersCacheDir(), `dubbo-${hash.digest('hex').slice(0, 12)}`);
  const classpath = `${join(out, 'classes')}:${join(out, 'lib', '*')}`;
  if (existsSync(join(out, '.done'))) return classpath;
  await mkdir(out, { recursive: true });
  const resolved = join(peersCacheDir(), '.dubbo-resolved');
  const offline = existsSync(resolved);
  log(`building dubbo peers into ${out}${offline ? ' (offline)' : ''}`);
  const started = Date.now();
  const mvn = (o: boolean): Promise<unknown> =>
    exec('mvn', ['-B', '-q', ...(o ? ['-o'] : []), '-f', join(PROJECT, 'pom.xml'), `-Dmaven.repo.local=${join(cacheDir(), 'm2')}`, `-Dpeers.out=${out}`, '-DskipTests', 'package'], {
      maxBuffer: 64 * 2 ** 20,
      timeout: 1_200_000,
    });
  try {
    await mvn(offline);
  } catch (err) {
    // A changed pom may need artifacts the local repository lacks: resolve them online once.
    if (!offline) throw err;
    log('offline build failed; retrying online');
    await mvn(false);
  }
  await writeFile(join(out, '.done'), `${new Date().toISOString()}\n`);
  await writeFile(resolved, `${out}\n`);
  log(`dubbo peers built in ${Math.round((Date.now() - started) / 1000)} s`);
  return classpath;
}

/** One JSON line a peer printed. */
export type PeerLine = Record<string, unknown> & { event?: string };

/** A running peer JVM: its JSON lines, and stop(). */
export class DubboPeer {
  readonly lines: PeerLine[] = [];
  readonly #proc: ChildProcess;
  readonly #waiters = new Set<() => void>();
  readonly #listeners: ((line: PeerLine) => void)[] = [];
  #exited = false;
  #stderrTail: string[] = [];

  /** `logPath`: where the JVM's own log output (stderr, non-JSON stdout) is kept. */
  constructor(proc: ChildProcess, logPath?: string) {
    this.#proc = proc;
    const log = logPath === undefined ? undefined : createWriteStream(logPath, { flags: 'a' });
    if (log !== undefined) proc.stderr?.pipe(log);
    if (proc.stdout !== null) {
      createInterface({ input: proc.stdout }).on('line', (line) => {
        if (!line.startsWith('{')) {
          log?.write(`${line}\n`);
          return;
        }
        let parsed: PeerLine;
        try {
          parsed = JSON.parse(line) as PeerLine;
        } catch {
          return;
        }
        this.lines.push(parsed);
        for (const l of this.#listeners) l(parsed);
        for (const w of this.#waiters) w();
      });
    }
    proc.stderr?.on('data', (chunk: Buffer) => {
      this.#stderrTail = [...this.#stderrTail, chunk.toString('utf8')].slice(-20);
    });
    proc.on('exit', () => {
      this.#exited = true;
      for (const w of this.#waiters) w();
    });
  }

  get pid(): number | undefined {
    return this.#proc.pid;
  }

  /** Resolves with the first line matching `pred` (already printed or future); rejects on exit or timeout. */
  async waitFor(pred: (l: PeerLine) => boolean, timeoutMs = 120_000): Promise<PeerLine> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const hit = this.lines.find(pred);
      if (hit !== undefined) return hit;
      if (this.#exited) throw new Error(`dubbo peer exited; stderr tail:\n${this.#stderrTail.join('').slice(-4000)}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`dubbo peer: no matching line within ${timeoutMs} ms; stderr tail:\n${this.#stderrTail.join('').slice(-4000)}`);
      await new Promise<void>((resolve) => {
        const done = (): void => { clearTimeout(t); this.#waiters.delete(done); resolve(); };
        const t = setTimeout(done, left);
        this.#waiters.add(done);
      });
    }
  }

  /** Called with every JSON line as it arrives (a caller stamps its own arrival times). */
  onLine(listener: (line: PeerLine) => void): void {
    this.#listeners.push(listener);
  }

  get running(): boolean {
    return !this.#exited;
  }

  async stop(): Promise<void> {
    if (this.#exited || this.#proc.pid === undefined) return;
    const gone = new Promise<void>((resolve) => this.#proc.once('exit', () => { resolve(); }));
    this.#proc.kill('SIGKILL');
    await gone;
  }

  /**
   * SIGTERM, as an orchestrator stops a JVM: Dubbo's shutdown hook unregisters, waits for calls
   * in flight, then exits. SIGKILL after `graceMs`. Resolves with how long the exit took.
   */
  async terminate(graceMs: number): Promise<{ ms: number; killed: boolean }> {
    const started = Date.now();
    if (this.#exited || this.#proc.pid === undefined) return { ms: 0, killed: false };
    const gone = new Promise<void>((resolve) => this.#proc.once('exit', () => { resolve(); }));
    this.#proc.kill('SIGTERM');
    let killed = false;
    const timer = setTimeout(() => { killed = true; this.#proc.kill('SIGKILL'); }, graceMs);
    await gone;
    clearTimeout(timer);
    return { ms: Date.now() - started, killed };
  }

  /** Writes one line to the peer's stdin (the direct consumer's endpoint list). */
  send(line: string): void {
    if (!this.#exited) this.#proc.stdin?.write(`${line}\n`);
  }
}

function start(classpath: string, main: string, args: Record<string, string | number | undefined>, stdin: 'ignore' | 'pipe' = 'ignore', logPath?: string): DubboPeer {
  const argv = Object.entries(args)
    .filter(([, v]) => v !== undefined && v !== '')
    .map(([k, v]) => `--${k}=${String(v)}`);
  const proc = spawn('java', ['-Xmx192m', '-XX:TieredStopAtLevel=1', '-cp', classpath, `dev.isthmus.peers.${main}`, ...argv], { stdio: [stdin, 'pipe', 'pipe'] });
  return new DubboPeer(proc, logPath);
}

export interface ProviderOptions {
  readonly id: string;
  /** ZooKeeper host:port, or 'none' to register nowhere (reachable only through Kubernetes). */
  readonly zk: string;
  readonly port: number;
  readonly app?: string;
  readonly version?: string;
  readonly group?: string;
  readonly registerMode?: 'interface' | 'instance' | 'all';
  readonly metadataType?: 'local' | 'remote';
  /** Address registered and bound (default: Dubbo's choice registered, 127.0.0.1 bound). */
  readonly host?: string;
  /** dubbo.service.shutdown.wait, ms: how long a SIGTERM'd provider waits for calls in flight. */
  readonly shutdownWaitMs?: number;
  /** The service's warmup, ms (Dubbo's default 10 min scales a young provider's weight down). */
  readonly warmupMs?: number;
  /** `weight` written explicitly into the provider URL (unset: none, consumers assume 100). */
  readonly weight?: number;
}

/** Starts a provider (it listens on 127.0.0.1:port only) and waits until it serves. */
export async function startProvider(classpath: string, o: ProviderOptions): Promise<DubboPeer> {
  const peer = start(classpath, 'Provider', { id: o.id, zk: o.zk, port: o.port, app: o.app, version: o.version, group: o.group, 'register-mode': o.registerMode, 'metadata-type': o.metadataType, host: o.host, 'shutdown-wait': o.shutdownWaitMs, warmup: o.warmupMs, weight: o.weight });
  await peer.waitFor((l) => l.event === 'ready');
  return peer;
}

export interface ConsumerOptions {
  readonly zk: string;
  readonly mode: 'interface' | 'application';
  /** Calls per second. */
  readonly rate?: number;
  /** Calls before exiting; 0 = until stopped. */
  readonly count?: number;
  readonly app?: string;
  readonly version?: string;
  readonly group?: string;
  readonly timeoutMs?: number;
  readonly providedBy?: string;
  /** File for the JVM's own log output (Dubbo's registry notifications, errors). */
  readonly logPath?: string;
}

/** Starts a consumer calling in a loop; every call is a JSON line `{event:'call', ok, reply|error}`. */
export async function startConsumer(classpath: string, o: ConsumerOptions): Promise<DubboPeer> {
  const peer = start(classpath, 'Consumer', { zk: o.zk, mode: o.mode, rate: o.rate, count: o.count, app: o.app, version: o.version, group: o.group, timeout: o.timeoutMs, 'provided-by': o.providedBy }, 'ignore', o.logPath);
  await peer.waitFor((l) => l.event === 'started');
  return peer;
}

/** Free loopback TCP port for a provider. */
export async function freePort(): Promise<number> {
  const { createServer } = await import('node:net');
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => { resolve(); }));
  const addr = server.address();
  await new Promise<void>((resolve) => server.close(() => { resolve(); }));
  if (addr === null || typeof addr !== 'object') throw new Error('no free port');
  return addr.port;
}

export interface DirectConsumerOptions {
  readonly rate?: number;
  readonly app?: string;
  readonly version?: string;
  readonly group?: string;
  readonly timeoutMs?: number;
  /** The first endpoint list (`ip:port`); the consumer calls nothing before it has one. */
  readonly targets: readonly string[];
}

/**
 * Starts a registry-less consumer that calls the endpoints given with `peer.send('targets
 * ip:port,…')` round-robin, one direct reference per endpoint (see DirectConsumer.java).
 */
export async function startDirectConsumer(classpath: string, o: DirectConsumerOptions): Promise<DubboPeer> {
  const peer = start(classpath, 'DirectConsumer', { rate: o.rate, app: o.app, version: o.version, group: o.group, timeout: o.timeoutMs }, 'pipe');
  peer.send(`targets ${o.targets.join(',')}`);
  await peer.waitFor((l) => l.event === 'started');
  return peer;
}

// Runs the real `isthmus` CLI (compiled by the global setup, else through tsx: see
// process/compiled-cli.ts) as a child process, the way an
// operator or the container does: a YAML config file, JSON logs on stdout, SIGTERM to stop.
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { stringify } from 'yaml';
import type { ServiceExplain } from '../../bridge/sync/status.ts';
import { cliArgs } from '../process/compiled-cli.ts';

const execFileP = promisify(execFile);
const ROOT = fileURLToPath(new URL('../../', import.meta.url));

export class TempDir {
  readonly path: string;
  private constructor(path: string) {
    this.path = path;
  }

  static async create(prefix: string): Promise<TempDir> {
    return new TempDir(await mkdtemp(join(tmpdir(), `isthmus-${prefix}-`)));
  }

  async write(name: string, content: string): Promise<string> {
    const file = join(this.path, name);
    await writeFile(file, content, { mode: 0o600 });
    return file;
  }

  writeConfig(name: string, config: unknown): Promise<string> {
    return this.write(name, stringify(config));
  }

  remove(): Promise<void> {
    return rm(this.path, { recursive: true, force: true });
  }
}

export interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** One-shot command (`cleanup`, `validate`, ...): exit code and output, never throws on exit != 0. */
export async function isthmus(args: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<CliResult> {
  try {
    const { stdout, stderr } = await execFileP(process.execPath, [...cliArgs(), ...args], { cwd: ROOT, env: { ...process.env, ...env }, maxBuffer: 16 * 1024 * 1024, timeout: 120_000 });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number | string; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : -1, stdout: e.stdout ?? '', stderr: e.stderr ?? String(err) };
  }
}

/** `isthmus run` in the background; `url` is the resolver's, read from the "isthmus running" log line. */
export class RunningBridge {
  readonly url: string;
  readonly logs: string[];
  /** The resolver token, when its config sets one: `explain` sends it. */
  token: string | undefined;
  readonly #child: ChildProcess;
  readonly #exited: Promise<number | null>;

  private constructor(child: ChildProcess, url: string, logs: string[], exited: Promise<number | null>) {
    this.#child = child;
    this.url = url;
    this.logs = logs;
    this.#exited = exited;
  }

  static async start(configPath: string, env: NodeJS.ProcessEnv = {}, startTimeoutMs = 90_000): Promise<RunningBridge> {
    const child = spawn(process.execPath, [...cliArgs(), 'run', '--config', configPath, '--log-level', 'info'], {
      cwd: ROOT,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const logs: string[] = [];
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => { resolve(code); }));
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => { reject(new Error(`bridge did not start within ${startTimeoutMs} ms:\n${logs.slice(-20).join('\n')}`)); }, startTimeoutMs);
      let pending = '';
      const onData = (chunk: Buffer) => {
        pending += chunk.toString('utf8');
        const lines = pending.split('\n');
        pending = lines.pop() ?? '';
        for (const line of lines) {
          logs.push(line);
          const m = /"url":"([^"]+)"[^\n]*isthmus running|isthmus running[^\n]*"url":"([^"]+)"/.exec(line);
          if (m !== null) {
            clearTimeout(timer);
            resolve(m[1] ?? m[2] ?? '');
          }
        }
      };
      child.stdout.on('data', onData);
      child.stderr.on('data', (c: Buffer) => logs.push(c.toString('utf8')));
      void exited.then((code) => {
        clearTimeout(timer);
        reject(new Error(`bridge exited with ${code} before serving:\n${logs.slice(-20).join('\n')}`));
      });
    });
    return new RunningBridge(child, url, logs, exited);
  }

  async explain(namespace: string, name: string): Promise<ServiceExplain> {
    const headers: Record<string, string> = this.token === undefined ? {} : { authorization: `Bearer ${this.token}` };
    const res = await fetch(`${this.url}/v1/status/${encodeURIComponent(namespace)}/${encodeURIComponent(name)}`, { headers });
    if (!res.ok) throw new Error(`status ${namespace}/${name}: ${res.status} ${await res.text()}`);
    return ((await res.json()) as { explain: ServiceExplain }).explain;
  }

  /** SIGKILL: a crash, no shutdown sequence, no Lease release. */
  async kill(): Promise<void> {
    if (this.#child.exitCode === null && this.#child.signalCode === null) this.#child.kill('SIGKILL');
    await this.#exited;
  }

  /** SIGTERM and wait for the bridge's own shutdown sequence; returns the exit code. */
  async stop(): Promise<number | null> {
    if (this.#child.exitCode === null && this.#child.signalCode === null) this.#child.kill('SIGTERM');
    return this.#exited;
  }
}

/** Waits until every target of `ref` is applied or in sync toward `sinks` (status API). */
export async function waitSynced(bridge: RunningBridge, namespace: string, name: string, sinks: readonly string[], timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  for (;;) {
    const explain = await bridge.explain(namespace, name);
    const done = sinks.every((sink) => explain.targets.some((t) => t.sink === sink && (t.outcome === 'applied' || t.outcome === 'in-sync')));
    if (done) return;
    last = JSON.stringify(explain);
    if (Date.now() > deadline) throw new Error(`${namespace}/${name} not synced to ${sinks.join(', ')} within ${timeoutMs} ms: ${last}\n${bridge.logs.slice(-15).join('\n')}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

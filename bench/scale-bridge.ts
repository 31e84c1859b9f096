// The scale bench's bridge as users run it: its own process (`isthmus run`, from dist/ when built,
// else from source through tsx), so its peak RSS and CPU are the bridge's alone, not the bench's,
// the counting proxy's or the Kubernetes test client's. Figures come from /proc (Linux).
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const COMPILED = `${ROOT}dist/adapters/cli.js`;
const CLOCK_TICKS = 100; // USER_HZ on Linux
/** What the image and the systemd unit set (bench/scale.test.ts checks they agree). */
export const PRODUCTION_NODE_OPTIONS = '--max-semi-space-size=1 --max-old-space-size=1024';

export interface BridgeUsage {
  /** VmHWM: the kernel's own peak resident set of the process, MiB. */
  readonly peakRssMiB: number;
  readonly cpuSeconds: number;
  /** How the process was started: compiled JS (what the image runs) or tsx from source. */
  readonly runtime: 'dist' | 'tsx';
}

export class BridgeProcess {
  readonly #child: ChildProcess;
  readonly #exited: Promise<number | null>;
  readonly runtime: 'dist' | 'tsx';
  /** Lines the bridge logged at warn and above that mention HTTP 429. */
  tooManyLines = 0;

  private constructor(child: ChildProcess, runtime: 'dist' | 'tsx') {
    this.#child = child;
    this.runtime = runtime;
    this.#exited = new Promise((resolve) => { child.on('exit', (code) => { resolve(code); }); });
    createInterface({ input: child.stdout! }).on('line', (line) => {
      if (/\b429\b/.test(line)) this.tooManyLines++;
      process.stderr.write(`[bridge] ${line}\n`);
    });
    child.stderr!.on('data', (chunk: Buffer) => { process.stderr.write(chunk); });
  }

  /** Writes the config next to the bench and starts `isthmus run` on it. */
  static async start(configPath: string, config: object): Promise<BridgeProcess> {
    await writeFile(configPath, JSON.stringify(config));
    const compiled = existsSync(COMPILED);
    // BENCH_BRIDGE_FLAGS: node flags NODE_OPTIONS refuses, for experiments (`--trace-gc`).
    const flags = (process.env['BENCH_BRIDGE_FLAGS'] ?? '').split(' ').filter(Boolean);
    const args = compiled ? [...flags, COMPILED, 'run', '--config', configPath] : [...flags, '--import', 'tsx', `${ROOT}adapters/cli.ts`, 'run', '--config', configPath];
    // The production NODE_OPTIONS unless the caller set some (an empty value measures V8's defaults).
    const env = { ...process.env, NODE_OPTIONS: process.env['NODE_OPTIONS'] ?? PRODUCTION_NODE_OPTIONS };
    const child = spawn(process.execPath, args, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    return new BridgeProcess(child, compiled ? 'dist' : 'tsx');
  }

  get pid(): number {
    return this.#child.pid ?? -1;
  }

  /** False once the process has exited (a config error, a crash). */
  get alive(): boolean {
    return this.#child.exitCode === null && this.#child.signalCode === null;
  }

  exited(): Promise<number | null> {
    return this.#exited;
  }

  /** Peak RSS and CPU so far; read before stop (the /proc entry goes with the process). */
  async usage(): Promise<BridgeUsage> {
    const status = await readFile(`/proc/${this.pid}/status`, 'utf8');
    const hwmKb = Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? Number.NaN);
    // Fields 14 and 15 of /proc/pid/stat (utime, stime), counted after the ")" of the command name.
    const stat = await readFile(`/proc/${this.pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]);
    return { peakRssMiB: Math.round((hwmKb / 1024) * 10) / 10, cpuSeconds: Math.round(ticks) / CLOCK_TICKS, runtime: this.runtime };
  }

  /** SIGTERM, as a supervisor stops it; resolves with the exit code. */
  async stop(): Promise<number | null> {
    if (this.#child.exitCode === null && this.#child.signalCode === null) this.#child.kill('SIGTERM');
    return this.#exited;
  }
}

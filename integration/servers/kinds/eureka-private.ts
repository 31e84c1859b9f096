// A private Eureka server for tests, next to the shared one: by default with the server's own
// timings (self-preservation on, 30 s read-only response cache, 60 s eviction tick), so a test
// can measure what real deployments see instead of the shared server's test-speed settings.
import { type ChildProcess, spawn } from 'node:child_process';
import { openSync, closeSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { tailFile } from '../log-tail.ts';
import { LOOPBACK } from '../ports.ts';
import { silentProgress } from '../progress.ts';
import { eurekaBuildDir, javaArgs, probeEureka, standaloneProperties } from './eureka.ts';

export interface PrivateEurekaOptions {
  /** Loopback port; a free one when absent. */
  readonly port?: number;
  /**
   * Spring properties on top of the standalone basics, e.g.
   * `{ 'eureka.server.enable-self-preservation': 'false' }`. Absent keys keep the server default.
   */
  readonly properties?: Readonly<Record<string, string>>;
  readonly timeoutMs?: number;
}

export interface PrivateEureka {
  readonly port: number;
  /** e.g. http://127.0.0.1:38761/eureka */
  readonly baseUrl: string;
  /** The server's stdout/stderr (Spring log), kept until stop(). */
  readonly logPath: string;
  /** Kills the server (SIGTERM, SIGKILL after 5 s) and removes its directory. Idempotent. */
  readonly stop: () => Promise<void>;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, LOOPBACK, resolve));
  const addr = server.address();
  await new Promise<void>((resolve) => server.close(() => { resolve(); }));
  if (addr === null || typeof addr !== 'object') throw new Error('no free loopback port');
  return addr.port;
}

async function kill(proc: ChildProcess): Promise<void> {
  if (proc.exitCode !== null || proc.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => proc.once('exit', () => { resolve(); }));
  proc.kill('SIGTERM');
  const timer = setTimeout(() => proc.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(timer);
}

export async function startPrivateEureka(options: PrivateEurekaOptions = {}): Promise<PrivateEureka> {
  const build = await eurekaBuildDir(silentProgress);
  const port = options.port ?? (await freePort());
  const dir = await mkdtemp(join(tmpdir(), 'isthmus-eureka-'));
  const logPath = join(dir, 'eureka.log');
  const fd = openSync(logPath, 'a');
  let proc: ChildProcess;
  try {
    proc = spawn('java', javaArgs(build, { ...standaloneProperties(port), ...options.properties }), { cwd: dir, stdio: ['ignore', fd, fd] });
  } finally {
    closeSync(fd);
  }
  const baseUrl = `http://${LOOPBACK}:${port}/eureka`;
  const stop = async (): Promise<void> => {
    await kill(proc);
    await rm(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + (options.timeoutMs ?? 120_000);
  for (;;) {
    if (await probeEureka(baseUrl).catch(() => false)) return { port, baseUrl, logPath, stop };
    if (proc.exitCode !== null || Date.now() > deadline) {
      const tail = await tailFile(logPath, 30);
      await stop();
      throw new Error(`private eureka on ${port} ${proc.exitCode === null ? 'did not answer in time' : 'exited'}:\n${tail}`);
    }
    await sleep(250);
  }
}

// Detached server processes tracked by pid files, so `npm run servers -- up` can exit while the
// servers keep running and a later `down` (or a test teardown) can find and stop them. Each
// process leads its own process group; stopping signals the whole group so helper children
// (e.g. a JVM's forks) go too.
import { spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

export interface TrackedProcess {
  readonly role: string;
  readonly pid: number;
  readonly logPath: string;
}

export interface SpawnSpec {
  readonly role: string;
  readonly command: string;
  readonly args: readonly string[];
  readonly cwd: string;
  readonly logPath: string;
  readonly env?: NodeJS.ProcessEnv;
}

const PIDS_FILE = 'pids.json';

export function spawnDetached(spec: SpawnSpec): TrackedProcess {
  const fd = openSync(spec.logPath, 'a');
  try {
    const child = spawn(spec.command, spec.args, {
      cwd: spec.cwd,
      env: spec.env ?? process.env,
      detached: true,
      stdio: ['ignore', fd, fd],
    });
    if (child.pid === undefined) throw new Error(`could not start ${spec.command}`);
    // Nothing in this process waits for it: it must outlive the CLI that launched it.
    child.unref();
    return { role: spec.role, pid: child.pid, logPath: spec.logPath };
  } finally {
    closeSync(fd);
  }
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // The group is already gone; nothing to stop.
  }
}

export async function stopProcess(proc: TrackedProcess, graceMs = 10_000): Promise<void> {
  if (!isAlive(proc.pid)) {
    signalGroup(proc.pid, 'SIGKILL');
    return;
  }
  signalGroup(proc.pid, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (isAlive(proc.pid) && Date.now() < deadline) await sleep(100);
  signalGroup(proc.pid, 'SIGKILL');
  while (isAlive(proc.pid)) await sleep(50);
}

export async function writePids(dir: string, procs: readonly TrackedProcess[]): Promise<void> {
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, PIDS_FILE), `${JSON.stringify(procs, null, 2)}\n`);
}

export async function readPids(dir: string): Promise<TrackedProcess[]> {
  try {
    return JSON.parse(await readFile(join(dir, PIDS_FILE), 'utf8')) as TrackedProcess[];
  } catch {
    return [];
  }
}

/** Stops in reverse start order (apiserver before etcd), then forgets the pids. */
export async function stopAll(dir: string): Promise<number> {
  const procs = await readPids(dir);
  for (const proc of [...procs].reverse()) await stopProcess(proc);
  await rm(join(dir, PIDS_FILE), { force: true });
  return procs.length;
}

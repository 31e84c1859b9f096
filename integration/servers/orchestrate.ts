// Provision, start (or reuse), and stop servers. State lives in the run dir, so separate
// processes (the CLI, a vitest global setup) agree on what is running.
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ConnectionByServer, ServerConnections, ServerName } from './connections.ts';
import { tcpOpen } from './net.ts';
import { serverRunDir } from './paths.ts';
import { LOOPBACK } from './ports.ts';
import { type TrackedProcess, isAlive, readPids, stopAll, writePids } from './processes.ts';
import { type ProgressListener, consoleProgress, formatElapsed } from './progress.ts';
import { definitions } from './registry.ts';
import { resolveMode } from './mode.ts';

export interface ServerOptions {
  readonly onProgress?: ProgressListener;
}

export interface EnsureResult {
  readonly connections: ServerConnections;
  /** Started by this call: the caller owns them and should stop them. */
  readonly started: ServerName[];
  /** Already running (e.g. from `npm run servers -- up`): leave them alone. */
  readonly reused: ServerName[];
}

export async function provisionServers(names: readonly ServerName[], options: ServerOptions = {}): Promise<void> {
  const onProgress = options.onProgress ?? consoleProgress;
  // One at a time: two Go builds at once on a 2-core machine only thrash each other.
  for (const name of names) {
    const def = definitions[name];
    if (await def.isProvisioned()) {
      onProgress({ server: name, message: `${await def.version()} already provisioned` });
      continue;
    }
    const started = Date.now();
    onProgress({ server: name, message: `provisioning ${def.summary}` });
    await def.provision(onProgress);
    onProgress({ server: name, message: `provisioned in ${formatElapsed(Date.now() - started)}` });
  }
}

/** The connection of a server that is up and answering, or undefined. */
export async function runningConnection<N extends ServerName>(name: N): Promise<ConnectionByServer[N] | undefined> {
  const dir = serverRunDir(name);
  const pids = await readPids(dir);
  if (pids.length === 0 || !pids.every((proc) => isAlive(proc.pid))) return undefined;
  const def = definitions[name];
  const conn = await def.connection(dir);
  try {
    return (await def.probe(conn)) ? conn : undefined;
  } catch {
    return undefined;
  }
}

async function startOne<N extends ServerName>(name: N, onProgress: ProgressListener): Promise<ConnectionByServer[N]> {
  const def = definitions[name];
  const dir = serverRunDir(name);
  // Leftovers of a crashed run: stop them and start from empty state.
  await stopAll(dir);
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  for (const p of def.ports()) {
    if (await tcpOpen(LOOPBACK, p)) {
      throw new Error(`${name}: port ${p} on ${LOOPBACK} is already in use by another process; stop it or move ours with ISTHMUS_PORT_* (see integration/servers/README.md)`);
    }
  }
  const tracked: TrackedProcess[] = [];
  const started = Date.now();
  try {
    await def.start({
      onProgress,
      runDir: dir,
      track: async (proc) => {
        tracked.push(proc);
        await writePids(dir, tracked);
      },
    });
  } catch (error) {
    await stopAll(dir);
    throw error;
  }
  const conn = await def.connection(dir);
  await writeFile(join(dir, 'connection.json'), `${JSON.stringify(conn, null, 2)}\n`);
  onProgress({ server: name, message: `up in ${formatElapsed(Date.now() - started)}` });
  return conn;
}

type MutableConnections = { -readonly [K in ServerName]?: ConnectionByServer[K] };

function put<N extends ServerName>(target: MutableConnections, name: N, conn: ConnectionByServer[N]): void {
  (target as Partial<ConnectionByServer>)[name] = conn;
}

export async function ensureServers(names: readonly ServerName[], options: ServerOptions = {}): Promise<EnsureResult> {
  resolveMode();
  const onProgress = options.onProgress ?? consoleProgress;
  const connections: MutableConnections = {};
  const reused: ServerName[] = [];
  const toStart: ServerName[] = [];
  for (const name of names) {
    const conn = await runningConnection(name);
    if (conn === undefined) {
      toStart.push(name);
    } else {
      onProgress({ server: name, message: 'already running; reusing it' });
      put(connections, name, conn);
      reused.push(name);
    }
  }
  await provisionServers(toStart, { onProgress });
  // Builds are done; starting is mostly waiting on JVMs and raft, so overlap it.
  const results = await Promise.allSettled(toStart.map(async (name) => ({ name, conn: await startOne(name, onProgress) })));
  const started: ServerName[] = [];
  const failures: unknown[] = [];
  for (const result of results) {
    if (result.status === 'fulfilled') {
      put(connections, result.value.name, result.value.conn);
      started.push(result.value.name);
    } else {
      failures.push(result.reason);
    }
  }
  if (failures.length > 0) {
    await stopServers(started);
    if (failures.length === 1) throw failures[0];
    throw new AggregateError(failures, failures.map((f) => (f instanceof Error ? f.message : String(f))).join('\n\n'));
  }
  return { connections, started, reused };
}

export async function stopServers(names: readonly ServerName[], options: ServerOptions = {}): Promise<void> {
  const onProgress = options.onProgress ?? consoleProgress;
  for (const name of names) {
    const count = await stopAll(serverRunDir(name));
    if (count > 0) onProgress({ server: name, message: `stopped ${count} process(es)` });
  }
}

// Outage tests need one process of a shared server to die and come back (kube-apiserver while
// etcd keeps the data). Restarting the whole server would regenerate its keys and wipe its
// state; this kills exactly one process, as a crash would, and restarts it unchanged.
import { readFile, readlink } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ServerName } from './connections.ts';
import { serverRunDir } from './paths.ts';
import { isAlive, readPids, spawnDetached, writePids } from './processes.ts';

/**
 * SIGKILLs the running `role` process of `server` and returns a function that starts it again
 * with the same command line, working directory and log file (read from /proc: Linux only).
 */
export async function crashProcess(server: ServerName, role: string): Promise<() => Promise<void>> {
  const dir = serverRunDir(server);
  const procs = await readPids(dir);
  const proc = procs.find((p) => p.role === role);
  if (proc === undefined || !isAlive(proc.pid)) throw new Error(`${server}: no running ${role} to crash`);
  const argv = (await readFile(`/proc/${proc.pid}/cmdline`, 'utf8')).split('\0').filter((a) => a !== '');
  const cwd = await readlink(`/proc/${proc.pid}/cwd`);
  const [command, ...args] = argv;
  if (command === undefined) throw new Error(`${server}: cannot read the command line of ${role} (pid ${proc.pid})`);
  process.kill(-proc.pid, 'SIGKILL');
  while (isAlive(proc.pid)) await sleep(20);
  return async () => {
    const next = spawnDetached({ role, command, args, cwd, logPath: proc.logPath });
    await writePids(dir, procs.map((p) => (p.role === role ? next : p)));
  };
}

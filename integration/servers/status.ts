// What `npm run servers -- status` reports for each server.
import type { ServerName } from './connections.ts';
import { serverRunDir } from './paths.ts';
import { isAlive, readPids } from './processes.ts';
import { definitions } from './registry.ts';
import { runningConnection } from './orchestrate.ts';

export type ServerState = 'running' | 'stopped' | 'not answering' | 'partly dead';

export interface ServerStatusReport {
  readonly name: ServerName;
  readonly version: string;
  readonly provisioned: boolean;
  readonly state: ServerState;
  readonly address: string;
  readonly pids: readonly number[];
  readonly runDir: string;
}

export async function serverStatus(names: readonly ServerName[]): Promise<ServerStatusReport[]> {
  const reports: ServerStatusReport[] = [];
  for (const name of names) {
    const def = definitions[name];
    const dir = serverRunDir(name);
    const pids = await readPids(dir);
    const alive = pids.filter((proc) => isAlive(proc.pid));
    let state: ServerState = 'stopped';
    if (alive.length > 0) {
      if (alive.length < pids.length) state = 'partly dead';
      else state = (await runningConnection(name)) === undefined ? 'not answering' : 'running';
    }
    reports.push({
      name,
      version: await def.version(),
      provisioned: await def.isProvisioned(),
      state,
      address: await def.address(dir),
      pids: pids.map((proc) => proc.pid),
      runDir: dir,
    });
  }
  return reports;
}

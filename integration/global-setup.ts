// vitest globalSetup for the integration project: starts the selected real servers once per run
// (ISTHMUS_SERVERS=consul,zookeeper limits them; default all five: kubernetes, consul, nacos,
// zookeeper, eureka), hands their connection info to test files, and stops at teardown only what
// it started itself, so servers already running from `npm run servers -- up` stay up for the next
// run.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { ensureServers, parseServerNames, runDir, stopServers } from './servers/index.ts';
import type {} from './servers/provided-context.ts';

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const names = parseServerNames((process.env.ISTHMUS_SERVERS ?? 'all').split(','));
  const result = await ensureServers(names);
  const file = join(runDir(), 'connections.json');
  await mkdir(runDir(), { recursive: true });
  await writeFile(file, `${JSON.stringify(result.connections, null, 2)}\n`);
  process.env.ISTHMUS_SERVERS_FILE = file;
  project.provide('isthmusServers', result.connections);
  project.provide('isthmusServersFile', file);
  return async () => {
    await stopServers(result.started);
  };
}

// vitest globalSetup for the integration projects: starts the selected real servers once per run
// (ISTHMUS_SERVERS=consul,zookeeper limits them; default all five: kubernetes, consul, nacos,
// zookeeper, eureka), hands their connection info to test files, and stops at teardown only what
// it started itself, so servers already running from `npm run servers -- up` stay up for the next
// run. It also builds the Java peers (no-op when cached) and compiles the CLI the tests start as
// bridge processes (process/compiled-cli.ts).
// Two projects use it (`integration`, files several at a time, and `integration-serial`, files run
// alone): the servers are started once for both and stopped after the last one.
// It installs the ServiceMigration CRD once for the run, so no test file owns it: the demo and the
// console test remove the CRD when they were the ones to install it, as the demo does for a user,
// and on the shared apiserver that would delete every other file's ServiceMigrations with it.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { Kube } from './drill/kube.ts';
import { installMigrationCrd } from './drill/service-migration.ts';
import { buildDubboPeers } from './peers/dubbo/peers.ts';
import { COMPILED_CLI_ENV, compileCli } from './process/compiled-cli.ts';
import { ensureSpringPeersJar } from './peers/spring/build.ts';
import { ensureServers, parseServerNames, runDir, stopServers } from './servers/index.ts';
import type {} from './servers/provided-context.ts';

type Ensured = Awaited<ReturnType<typeof ensureServers>>;
interface Shared { started: Promise<{ result: Ensured; file: string; cli: string | undefined }>; users: number }
// On globalThis: vitest may load this module once per project.
const holder = globalThis as { isthmusIntegrationServers?: Shared | undefined };

async function start(): Promise<{ result: Ensured; file: string; cli: string | undefined }> {
  const names = parseServerNames((process.env.ISTHMUS_SERVERS ?? 'all').split(','));
  // Compiling is CPU work and starting servers mostly waiting, so the two go side by side.
  const compiling = compileCli(log('cli')).catch((error: unknown) => {
    log('cli')(`not compiled (${(error as Error).message.slice(0, 300)}); tests start the CLI from source`);
    return undefined;
  });
  const result = await ensureServers(names);
  const file = join(runDir(), 'connections.json');
  await mkdir(runDir(), { recursive: true });
  await writeFile(file, `${JSON.stringify(result.connections, null, 2)}\n`);
  const k8s = result.connections.kubernetes;
  if (k8s !== undefined) await installMigrationCrd(new Kube(k8s));
  await buildPeers();
  return { result, file, cli: await compiling };
}

function log(what: string): (line: string) => void {
  return (line) => { process.stderr.write(`[${new Date().toISOString().slice(11, 19)}] ${what}: ${line}\n`); };
}

/**
 * The Java peers, once, before files that use them start side by side: otherwise each of them
 * would run its own Maven build on a fresh machine. A no-op when the caches match the sources;
 * a failure is only reported, and the files that need a peer fail with the reason.
 */
async function buildPeers(): Promise<void> {
  const peers = log('peers');
  for (const [name, build] of [['spring', () => ensureSpringPeersJar(peers)], ['dubbo', () => buildDubboPeers(peers)]] as const) {
    try {
      await build();
    } catch (error) {
      peers(`${name} peers not built (${(error as Error).message.slice(0, 300)}); the tests that run them will say so`);
    }
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const shared = holder.isthmusIntegrationServers ??= { started: start(), users: 0 };
  shared.users++;
  const { result, file, cli } = await shared.started;
  process.env.ISTHMUS_SERVERS_FILE = file;
  if (cli !== undefined) process.env[COMPILED_CLI_ENV] = cli;
  project.provide('isthmusServers', result.connections);
  project.provide('isthmusServersFile', file);
  return async () => {
    if (--shared.users > 0) return;
    holder.isthmusIntegrationServers = undefined;
    await stopServers(result.started);
  };
}

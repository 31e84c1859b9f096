// ZooKeeper from Debian's `zookeeper` package (not `zookeeperd`, whose init script would start a
// system-wide server on 2181), run standalone with the AdminServer off.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ensurePackages, missingPackages, packagesForCommands } from '../apt.ts';
import type { ZooKeeperConnection } from '../connections.ts';
import type { ServerDefinition } from '../definition.ts';
import { fourLetterWord } from '../net.ts';
import { LOOPBACK, port } from '../ports.ts';
import { spawnDetached } from '../processes.ts';
import { waitReady } from '../readiness.ts';

const exec = promisify(execFile);
const ZK_JAR = '/usr/share/java/zookeeper.jar';
// slf4j-simple (libslf4j-java) gives the server a log binding; without one it logs nothing.
const SLF4J_SIMPLE = '/usr/share/java/slf4j-simple.jar';
const PACKAGES = ['zookeeper', 'libslf4j-java'];

async function debianVersion(): Promise<string> {
  try {
    const { stdout } = await exec('dpkg-query', ['-W', '-f=${Version}', 'zookeeper']);
    return stdout.trim();
  } catch {
    return 'not installed';
  }
}

async function probe(conn: ZooKeeperConnection): Promise<boolean> {
  return (await fourLetterWord(conn.host, conn.port, 'ruok')) === 'imok';
}

export const zookeeper: ServerDefinition<'zookeeper'> = {
  name: 'zookeeper',
  summary: 'ZooKeeper standalone from Debian bookworm package `zookeeper`',
  version: async () => `debian ${await debianVersion()}`,
  ports: () => [port('ZOOKEEPER')],
  isProvisioned: async () =>
    (await missingPackages(PACKAGES)).length === 0 && (await packagesForCommands({ java: 'openjdk-17-jre-headless' })).length === 0,
  provision: async (onProgress) => {
    const forCommands = await packagesForCommands({ java: 'openjdk-17-jre-headless' });
    await ensurePackages('zookeeper', [...PACKAGES, ...forCommands], onProgress);
  },
  connection: async () => {
    const zkPort = port('ZOOKEEPER');
    return { version: await debianVersion(), host: LOOPBACK, port: zkPort, connectString: `${LOOPBACK}:${zkPort}` };
  },
  probe,
  address: async (runDir) => (await zookeeper.connection(runDir)).connectString,
  start: async (ctx) => {
    if (!existsSync(ZK_JAR)) throw new Error(`${ZK_JAR} missing: run \`npm run servers -- provision zookeeper\``);
    const dataDir = join(ctx.runDir, 'data');
    await mkdir(dataDir, { recursive: true });
    await mkdir(join(ctx.runDir, 'logs'), { recursive: true });
    const cfg = join(ctx.runDir, 'zoo.cfg');
    await writeFile(
      cfg,
      [
        'tickTime=2000',
        `dataDir=${dataDir}`,
        `clientPort=${port('ZOOKEEPER')}`,
        `clientPortAddress=${LOOPBACK}`,
        // The AdminServer would listen on 8080 on every interface.
        'admin.enableServer=false',
        '4lw.commands.whitelist=ruok,srvr,stat,mntr',
        'maxClientCnxns=0',
        '',
      ].join('\n'),
    );
    const classpath = existsSync(SLF4J_SIMPLE) ? `${ZK_JAR}:${SLF4J_SIMPLE}` : ZK_JAR;
    const proc = spawnDetached({
      role: 'zookeeper',
      command: 'java',
      args: [
        '-Xmx256m',
        '-Dzookeeper.admin.enableServer=false',
        // The JMX agent is not needed and would add an RMI listener.
        '-Dzookeeper.jmx.log4j.disable=true',
        '-cp',
        classpath,
        'org.apache.zookeeper.server.ZooKeeperServerMain',
        cfg,
      ],
      cwd: ctx.runDir,
      logPath: join(ctx.runDir, 'logs', 'zookeeper.log'),
    });
    await ctx.track(proc);
    const conn = await zookeeper.connection(ctx.runDir);
    await waitReady({ server: 'zookeeper', what: 'zookeeper', proc, timeoutMs: 60_000, onProgress: ctx.onProgress, probe: () => probe(conn) });
  },
};

// Eureka: Spring Cloud Netflix's Eureka server (what Spring shops actually run) in a tiny
// @EnableEurekaServer app of ours (maven/eureka), built and cached like the Nacos launcher. The
// shared server runs with test-speed timings; startPrivateEureka (eureka-private.ts) runs the same
// build with the server's defaults for tests that must see the real 30–90 s behaviour.
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { ensurePackages, packagesForCommands } from '../apt.ts';
import type { EurekaConnection } from '../connections.ts';
import type { ServerDefinition } from '../definition.ts';
import { httpGet } from '../http-get.ts';
import { cacheDir, descriptorsDir } from '../paths.ts';
import { LOOPBACK, port } from '../ports.ts';
import { spawnDetached } from '../processes.ts';
import type { ProgressListener } from '../progress.ts';
import { waitReady } from '../readiness.ts';
import { runCommand } from '../run-command.ts';
import { EUREKA_VERSION } from '../versions.ts';

const projectDir = join(descriptorsDir, 'maven', 'eureka');
const COMMAND_PACKAGES = { java: 'openjdk-17-jdk-headless', javac: 'openjdk-17-jdk-headless', mvn: 'maven' };

async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  return entries
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name))
    .sort();
}

/** Output dir keyed by the pom and app sources, so editing either rebuilds. */
async function buildDir(): Promise<string> {
  const hash = createHash('sha256');
  for (const file of [join(projectDir, 'pom.xml'), ...(await filesUnder(join(projectDir, 'src')))]) {
    hash.update(relative(projectDir, file));
    hash.update(await readFile(file));
  }
  return join(cacheDir(), 'eureka', `${EUREKA_VERSION}-${hash.digest('hex').slice(0, 10)}`);
}

/**
 * The built server (classes + lib/), built first when needed exactly as `provision` does. Also
 * what startPrivateEureka runs.
 */
export async function eurekaBuildDir(onProgress: ProgressListener): Promise<string> {
  const out = await buildDir();
  const marker = join(out, '.complete');
  if (existsSync(marker)) return out;
  await ensurePackages('eureka', [...new Set(await packagesForCommands(COMMAND_PACKAGES))], onProgress);
  await rm(out, { recursive: true, force: true });
  const args = [
    '-B',
    '--no-transfer-progress',
    `-Dmaven.repo.local=${join(cacheDir(), 'm2')}`,
    `-Disthmus.out=${out}`,
    'compile',
    'dependency:copy-dependencies',
    '-DincludeScope=runtime',
    `-DoutputDirectory=${join(out, 'lib')}`,
  ];
  await runCommand('mvn', args, {
    server: 'eureka',
    label: `maven resolve + compile eureka ${EUREKA_VERSION}`,
    cwd: projectDir,
    logPath: join(cacheDir(), 'logs', 'build-eureka.log'),
    onProgress,
  });
  await writeFile(marker, `${new Date().toISOString()}\n`);
  return out;
}

/**
 * What every Eureka server of ours needs whatever its timings: loopback only, and a standalone
 * server. Without its own URL as defaultZone the server treats Spring's default
 * http://localhost:8761/eureka/ as a peer and replicates every registration there: a private
 * server would write into the shared one. eureka.instance.hostname must match that URL's host so
 * PeerEurekaNodes recognises it as itself and drops it from the peer list.
 */
export function standaloneProperties(httpPort: number): Record<string, string> {
  return {
    'server.port': String(httpPort),
    'server.address': LOOPBACK,
    'spring.application.name': 'eureka',
    'eureka.instance.hostname': LOOPBACK,
    'eureka.client.service-url.defaultZone': `http://${LOOPBACK}:${httpPort}/eureka/`,
    'eureka.client.register-with-eureka': 'false',
    'eureka.client.fetch-registry': 'false',
  };
}

/**
 * Test speed for the shared server: changes visible at once (no 30 s read-only cache), dead
 * leases evicted within a second of expiring, and no self-preservation (it would keep expired
 * instances in a registry this small forever, see README).
 */
export const FAST_PROPERTIES: Readonly<Record<string, string>> = {
  'eureka.server.enable-self-preservation': 'false',
  'eureka.server.eviction-interval-timer-in-ms': '1000',
  'eureka.server.use-read-only-response-cache': 'false',
  // The evict task logs one INFO line per run, i.e. every second here; expiries stay visible (WARN).
  'logging.level.com.netflix.eureka.registry.AbstractInstanceRegistry': 'WARN',
};

/** java arguments for one server: C1 only (a test server starts faster without C2 warm-up). */
export function javaArgs(build: string, properties: Readonly<Record<string, string>>): string[] {
  return [
    '-Xms64m',
    '-Xmx384m',
    '-XX:TieredStopAtLevel=1',
    '-cp',
    `${join(build, 'classes')}:${join(build, 'lib', '*')}`,
    'isthmus.it.EurekaTestServer',
    ...Object.entries(properties).map(([key, value]) => `--${key}=${value}`),
  ];
}

/** One real registry read: the full fetch every Eureka client starts with. */
export async function probeEureka(baseUrl: string): Promise<boolean> {
  const reply = await httpGet(`${baseUrl}/apps`, { headers: { accept: 'application/json' } });
  return reply.status === 200 && reply.body.includes('"applications"');
}

function connection(): EurekaConnection {
  const httpPort = port('EUREKA_HTTP');
  return { version: EUREKA_VERSION, host: LOOPBACK, port: httpPort, baseUrl: `http://${LOOPBACK}:${httpPort}/eureka` };
}

export const eureka: ServerDefinition<'eureka'> = {
  name: 'eureka',
  summary: `Eureka server (spring-cloud-starter-netflix-eureka-server ${EUREKA_VERSION}, Maven Central), test-speed timings`,
  version: () => Promise.resolve(EUREKA_VERSION),
  ports: () => [port('EUREKA_HTTP')],
  isProvisioned: async () => existsSync(join(await buildDir(), '.complete')),
  provision: async (onProgress) => {
    await eurekaBuildDir(onProgress);
  },
  connection: () => Promise.resolve(connection()),
  probe: (conn) => probeEureka(conn.baseUrl),
  address: () => Promise.resolve(connection().baseUrl),
  start: async (ctx) => {
    const build = await eurekaBuildDir(ctx.onProgress);
    await mkdir(join(ctx.runDir, 'logs'), { recursive: true });
    const conn = connection();
    const proc = spawnDetached({
      role: 'eureka',
      command: 'java',
      args: javaArgs(build, { ...standaloneProperties(conn.port), ...FAST_PROPERTIES }),
      cwd: ctx.runDir,
      logPath: join(ctx.runDir, 'logs', 'eureka.log'),
    });
    await ctx.track(proc);
    await waitReady({ server: 'eureka', what: 'eureka', proc, timeoutMs: 120_000, onProgress: ctx.onProgress, probe: () => probeEureka(conn.baseUrl) });
  },
};

// Eureka: Spring Cloud Netflix's Eureka server (what Spring shops actually run) in a tiny
// @EnableEurekaServer app of ours (maven/eureka), built and cached like the Nacos launcher. The
// shared server runs with test-speed timings; startPrivateEureka (eureka-private.ts) runs the same
// build with the server's defaults for tests that must see the real 30–90 s behaviour.
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { EurekaConnection } from '../connections.ts';
import type { ServerDefinition } from '../definition.ts';
import { httpGet } from '../http-get.ts';
import { buildMavenServer, isMavenServerBuilt, type MavenServerSpec } from '../maven-build.ts';
import { LOOPBACK, port } from '../ports.ts';
import { spawnDetached } from '../processes.ts';
import type { ProgressListener } from '../progress.ts';
import { waitReady } from '../readiness.ts';
import { EUREKA_VERSION } from '../versions.ts';

const BUILD: MavenServerSpec = { name: 'eureka', version: EUREKA_VERSION };

/**
 * The built server (classes + lib/), built first when needed exactly as `provision` does. Also
 * what startPrivateEureka runs.
 */
export function eurekaBuildDir(onProgress: ProgressListener): Promise<string> {
  return buildMavenServer(BUILD, onProgress);
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
  // The read-write response cache is invalidated on every change, but a read computed before a
  // change and stored after its invalidation stays until the entry expires (180 s by default).
  // Under load a drill read the old weights for 30 s after the bridge's writes were applied (its
  // saved status said so), likely this race; one second bounds it for every test on this server.
  'eureka.server.response-cache-auto-expiration-in-seconds': '1',
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
  isProvisioned: () => isMavenServerBuilt(BUILD),
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

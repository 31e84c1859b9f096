// Nacos 3.1 standalone (embedded Derby, auth off) from Maven Central. Alibaba does not publish the
// server to Central; io.github.pig-mesh.nacos republishes the same sources, and a small launcher
// of ours (maven/nacos/src) starts the core + web contexts without the 8080 console.
import { randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { NacosConnection } from '../connections.ts';
import type { ServerDefinition } from '../definition.ts';
import { httpGet } from '../http-get.ts';
import { buildMavenServer, isMavenServerBuilt, type MavenServerSpec } from '../maven-build.ts';
import { tcpOpen } from '../net.ts';
import { LOOPBACK, port } from '../ports.ts';
import { spawnDetached } from '../processes.ts';
import type { ProgressListener } from '../progress.ts';
import { waitReady } from '../readiness.ts';
import { NACOS_VERSION } from '../versions.ts';

const BUILD: MavenServerSpec = { name: 'nacos', version: NACOS_VERSION };

/**
 * The built server (classes + lib/), for tests that run a private Nacos next to the shared one
 * (auth on, other ports). Builds it first when needed, exactly as `provision` does.
 */
export function nacosBuildDir(onProgress: ProgressListener): Promise<string> {
  return buildMavenServer(BUILD, onProgress);
}

function applicationProperties(): string {
  return [
    `nacos.server.main.port=${port('NACOS_HTTP')}`,
    'nacos.server.contextPath=/nacos',
    `server.address=${LOOPBACK}`,
    'nacos.deployment.type=server',
    'server.error.include-message=ALWAYS',
    'management.elastic.metrics.export.enabled=false',
    'management.influx.metrics.export.enabled=false',
    'nacos.core.auth.system.type=nacos',
    'nacos.core.auth.enabled=false',
    'nacos.core.auth.admin.enabled=false',
    'nacos.core.auth.console.enabled=false',
    // Nacos 3 refuses to start without these even when auth is off.
    'nacos.core.auth.server.identity.key=isthmus-it',
    'nacos.core.auth.server.identity.value=isthmus-it',
    `nacos.core.auth.plugin.nacos.token.secret.key=${randomBytes(32).toString('base64')}`,
    'nacos.core.api.compatibility.client.enabled=true',
    'nacos.core.api.compatibility.admin.enabled=true',
    'nacos.istio.mcp.server.enabled=false',
    'nacos.k8s.sync.enabled=false',
    `nacos.inetutils.ip-address=${LOOPBACK}`,
    '',
  ].join('\n');
}

async function probe(conn: NacosConnection): Promise<boolean> {
  const reply = await httpGet(`${conn.baseUrl}/v1/ns/instance/list?serviceName=isthmus-readiness-probe`);
  // SDK clients need the gRPC port too; it opens a little after HTTP.
  return reply.status === 200 && reply.body.includes('"hosts"') && (await tcpOpen(conn.host, conn.grpcPort));
}

export const nacos: ServerDefinition<'nacos'> = {
  name: 'nacos',
  summary: `Nacos ${NACOS_VERSION} standalone, embedded Derby (io.github.pig-mesh.nacos:nacos-server from Maven Central)`,
  version: () => Promise.resolve(NACOS_VERSION),
  ports: () => {
    const http = port('NACOS_HTTP');
    return [http, http + 1000, http + 1001, http - 1000];
  },
  isProvisioned: () => isMavenServerBuilt(BUILD),
  provision: async (onProgress) => {
    await nacosBuildDir(onProgress);
  },
  connection: () => {
    const httpPort = port('NACOS_HTTP');
    return Promise.resolve({
      version: NACOS_VERSION,
      host: LOOPBACK,
      httpPort,
      grpcPort: httpPort + 1000,
      serverAddr: `${LOOPBACK}:${httpPort}`,
      baseUrl: `http://${LOOPBACK}:${httpPort}/nacos`,
      username: null,
      password: null,
    });
  },
  probe,
  address: async (runDir) => {
    const conn = await nacos.connection(runDir);
    return `${conn.baseUrl} (gRPC ${conn.host}:${conn.grpcPort})`;
  },
  start: async (ctx) => {
    const out = await nacosBuildDir(ctx.onProgress);
    const conf = join(ctx.runDir, 'conf');
    await mkdir(conf, { recursive: true });
    await mkdir(join(ctx.runDir, 'logs'), { recursive: true });
    await writeFile(join(conf, 'application.properties'), applicationProperties());
    const proc = spawnDetached({
      role: 'nacos',
      command: 'java',
      args: [
        '-Xms256m',
        '-Xmx768m',
        // C1 only: a short-lived test server starts noticeably faster without C2 warm-up.
        '-XX:TieredStopAtLevel=1',
        '-Dnacos.standalone=true',
        `-Dnacos.home=${ctx.runDir}`,
        `-Dnacos.server.ip=${LOOPBACK}`,
        `-Dnacos.remote.grpc.listen.ip=${LOOPBACK}`,
        `-Disthmus.bindHost=${LOOPBACK}`,
        '-cp',
        `${join(out, 'classes')}:${join(out, 'lib', '*')}`,
        'isthmus.it.NacosTestServer',
        `--spring.config.additional-location=file:${conf}/`,
      ],
      cwd: ctx.runDir,
      logPath: join(ctx.runDir, 'logs', 'nacos.log'),
    });
    await ctx.track(proc);
    const conn = await nacos.connection(ctx.runDir);
    await waitReady({ server: 'nacos', what: 'nacos', proc, timeoutMs: 180_000, onProgress: ctx.onProgress, probe: () => probe(conn) });
  },
};

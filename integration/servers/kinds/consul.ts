// Consul agent in -dev mode (in-memory server, ACLs off), built from the Go module proxy.
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { ConsulConnection } from '../connections.ts';
import type { ServerDefinition } from '../definition.ts';
import { type GoBinarySpec, buildGoBinary, goBinaryPath } from '../go-build.ts';
import { httpGet } from '../http-get.ts';
import { LOOPBACK, port } from '../ports.ts';
import { spawnDetached } from '../processes.ts';
import { waitReady } from '../readiness.ts';
import { CONSUL_VERSION } from '../versions.ts';

const spec: GoBinarySpec = {
  server: 'consul',
  tool: 'consul',
  module: 'consul',
  pkg: 'github.com/hashicorp/consul',
  version: CONSUL_VERSION,
};

async function probe(conn: ConsulConnection): Promise<boolean> {
  // The leader endpoint answers "" until raft has elected this dev server; KV/catalog writes
  // before that fail, so an elected leader is the readiness bar.
  const reply = await httpGet(`${conn.httpUrl}/v1/status/leader`);
  return reply.status === 200 && reply.body.includes(`${LOOPBACK}:`);
}

export const consul: ServerDefinition<'consul'> = {
  name: 'consul',
  summary: `consul agent -dev ${CONSUL_VERSION} (built from the Go module proxy)`,
  version: () => Promise.resolve(CONSUL_VERSION),
  ports: () =>
    (['CONSUL_HTTP', 'CONSUL_GRPC', 'CONSUL_GRPC_TLS', 'CONSUL_DNS', 'CONSUL_SERVER', 'CONSUL_SERF_LAN', 'CONSUL_SERF_WAN'] as const).map(
      (key) => port(key),
    ),
  isProvisioned: async () => existsSync(await goBinaryPath(spec)),
  provision: async (onProgress) => {
    await buildGoBinary(spec, onProgress);
  },
  connection: () => {
    const httpPort = port('CONSUL_HTTP');
    return Promise.resolve({
      version: CONSUL_VERSION,
      host: LOOPBACK,
      port: httpPort,
      address: `${LOOPBACK}:${httpPort}`,
      httpUrl: `http://${LOOPBACK}:${httpPort}`,
      grpcPort: port('CONSUL_GRPC'),
      token: null,
    });
  },
  probe,
  address: async (runDir) => {
    const conn = await consul.connection(runDir);
    return `${conn.httpUrl} (gRPC ${conn.host}:${conn.grpcPort})`;
  },
  start: async (ctx) => {
    const bin = await buildGoBinary(spec, ctx.onProgress);
    await mkdir(join(ctx.runDir, 'logs'), { recursive: true });
    const ports = [
      `http = ${port('CONSUL_HTTP')}`,
      `grpc = ${port('CONSUL_GRPC')}`,
      `grpc_tls = ${port('CONSUL_GRPC_TLS')}`,
      `dns = ${port('CONSUL_DNS')}`,
      `server = ${port('CONSUL_SERVER')}`,
      `serf_lan = ${port('CONSUL_SERF_LAN')}`,
      `serf_wan = ${port('CONSUL_SERF_WAN')}`,
    ].join(' ');
    const proc = spawnDetached({
      role: 'consul',
      command: bin,
      args: [
        'agent',
        '-dev',
        '-node=isthmus-it',
        `-bind=${LOOPBACK}`,
        `-client=${LOOPBACK}`,
        `-advertise=${LOOPBACK}`,
        // -dev keeps state in memory; data-dir only holds the node id and checkpoint files.
        `-data-dir=${join(ctx.runDir, 'data')}`,
        '-disable-host-node-id',
        // Update checks would phone home.
        '-hcl',
        `disable_update_check = true\nports { ${ports} }`,
        '-log-level=info',
      ],
      cwd: ctx.runDir,
      logPath: join(ctx.runDir, 'logs', 'consul.log'),
    });
    await ctx.track(proc);
    const conn = await consul.connection(ctx.runDir);
    await waitReady({ server: 'consul', what: 'consul agent', proc, timeoutMs: 60_000, onProgress: ctx.onProgress, probe: () => probe(conn) });
  },
};

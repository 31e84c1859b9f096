// Helpers for the Nacos real-server tests: the harness's Nacos (or ISTHMUS_NACOS_SERVER=host:port
// for a developer's own), adapter options, and a "VM application" that registers natively over
// the same gRPC SDK protocol a Spring Cloud Alibaba or Dubbo 3 app uses (no Isthmus markers).
import { Value } from '@sinclair/typebox/value';
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inject } from 'vitest';
import type { Endpoint, ServiceRef } from '../../bridge/model/index.ts';
import type { AdapterContext } from '../../bridge/ports/index.ts';
import { SILENT_LOGGER } from '../../bridge/sync/logger-port.ts';
import { NacosNamingClient, NacosOptions, nacosConnection } from '../../adapters/nacos/index.ts';
import type { NacosInstance } from '../../adapters/nacos/native.ts';
import { ensureServers, runningConnection, silentProgress } from '../servers/index.ts';
import { nacosBuildDir } from '../servers/kinds/nacos.ts';
import type {} from '../servers/provided-context.ts';

export interface NacosServer {
  readonly host: string;
  readonly httpPort: number;
  readonly baseUrl: string;
}

/** The Nacos under test: ISTHMUS_NACOS_SERVER, else the harness's (started if need be). */
export async function sharedNacos(): Promise<NacosServer> {
  const own = process.env.ISTHMUS_NACOS_SERVER;
  if (own !== undefined && own !== '') {
    const [host = '127.0.0.1', port = '8848'] = own.split(':');
    return { host, httpPort: Number(port), baseUrl: `http://${host}:${port}/nacos` };
  }
  const provided = inject('isthmusServers').nacos;
  const conn = provided ?? (await runningConnection('nacos')) ?? (await ensureServers(['nacos'])).connections.nacos;
  if (conn === undefined) throw new Error('the harness did not start nacos');
  return { host: conn.host, httpPort: conn.httpPort, baseUrl: conn.baseUrl };
}

export function runId(): string {
  return randomUUID().slice(0, 8);
}

export function nacosOptions(server: NacosServer, extra: Partial<NacosOptions> = {}): NacosOptions {
  return Value.Default(NacosOptions, {
    servers: [`${server.host}:${server.httpPort}`],
    keepaliveMs: 1000,
    maxBackoffMs: 1000,
    relistIntervalMs: 1000,
    requestTimeoutMs: 5000,
    ...extra,
  }) as NacosOptions;
}

export function ctx(registryId: string, bridgeId: string): AdapterContext {
  return { registryId, bridgeId, logger: SILENT_LOGGER };
}

/** The group and name of a test ref (bare names live in DEFAULT_GROUP). */
function nameOf(ref: ServiceRef): { group: string; service: string } {
  return { group: 'DEFAULT_GROUP', service: ref.name };
}

export function nativeInstance(ep: Endpoint, metadata: Record<string, string> = {}): NacosInstance {
  return {
    ip: ep.address,
    port: Object.values(ep.ports)[0] ?? 0,
    weight: ep.weight / 100,
    healthy: true,
    enabled: true,
    ephemeral: true,
    clusterName: 'DEFAULT',
    metadata: { ...ep.metadata, ...metadata },
  };
}

/**
 * A VM application on its own gRPC connection, registering its instances the way the Nacos 2.x+
 * Java SDK does (one connection, batch per service). Its instances vanish when it closes.
 */
export class NativeApp {
  readonly client: NacosNamingClient;
  readonly #abort = new AbortController();
  readonly #sets = new Map<string, NacosInstance[]>();

  constructor(server: NacosServer, extra: Partial<NacosOptions> = {}) {
    const o = nacosOptions(server, extra);
    const conn = nacosConnection(o, ctx('native-app', 'none'));
    conn.start(this.#abort.signal);
    this.client = new NacosNamingClient(conn, o.nacosNamespace);
  }

  async put(ref: ServiceRef, instance: NacosInstance): Promise<void> {
    const key = ref.name;
    const next = (this.#sets.get(key) ?? []).filter((i) => !(i.ip === instance.ip && i.port === instance.port));
    next.push(instance);
    this.#sets.set(key, next);
    await this.client.batchRegister(nameOf(ref), next);
  }

  async delete(ref: ServiceRef, ip: string): Promise<void> {
    const key = ref.name;
    const next = (this.#sets.get(key) ?? []).filter((i) => i.ip !== ip);
    this.#sets.set(key, next);
    // An empty batch withdraws everything this connection published for the service.
    await this.client.batchRegister(nameOf(ref), next);
  }

  /**
   * Every instance of `ref` the server lists (all writers), unhealthy ones included. Nacos
   * serves queries from a cache refreshed a few hundred ms after a write (measured on 3.1:
   * 300-600 ms), so a check right after writes waits that out first.
   */
  async list(ref: ServiceRef, settleMs = 1000): Promise<NacosInstance[]> {
    await new Promise((r) => setTimeout(r, settleMs));
    return [...((await this.client.query(nameOf(ref))).hosts ?? [])];
  }

  close(): void {
    this.#abort.abort();
  }
}

/**
 * What an operator does in the Nacos console to take an instance offline (or back): the 3.x
 * admin API's instance update with `enabled`. Works on ephemeral instances an SDK registered
 * (the server overlays instance metadata); subscribers then stop receiving the instance.
 */
export async function adminSetEnabled(server: NacosServer, ref: ServiceRef, instance: NacosInstance, enabled: boolean): Promise<void> {
  const form = new URLSearchParams({
    groupName: nameOf(ref).group,
    serviceName: nameOf(ref).service,
    ip: instance.ip,
    port: String(instance.port),
    clusterName: instance.clusterName ?? 'DEFAULT',
    weight: String(instance.weight ?? 1),
    ephemeral: String(instance.ephemeral !== false),
    metadata: JSON.stringify(instance.metadata ?? {}),
    enabled: String(enabled),
  });
  const res = await fetch(`${server.baseUrl}/v3/admin/ns/instance`, { method: 'PUT', body: form, signal: AbortSignal.timeout(5000) });
  if (!res.ok) throw new Error(`admin instance update answered HTTP ${res.status}: ${await res.text()}`);
}

/** The admin API's instance list: the only view that includes disabled instances. */
export async function adminList(server: NacosServer, ref: ServiceRef): Promise<NacosInstance[]> {
  const query = new URLSearchParams({ groupName: nameOf(ref).group, serviceName: nameOf(ref).service });
  const res = await fetch(`${server.baseUrl}/v3/admin/ns/instance/list?${query.toString()}`, { signal: AbortSignal.timeout(5000) });
  const body = (await res.json()) as { data?: NacosInstance[] };
  return body.data ?? [];
}

/**
 * A private Nacos with auth enabled on other loopback ports (main 28848, gRPC 29848), started from
 * the harness's build for the auth tests: the shared one runs with auth off. Its admin password is
 * set through the 3.x first-start API; tokens last `tokenTtlSeconds` so refresh is exercised.
 */
export class PrivateNacos {
  readonly server: NacosServer;
  readonly username = 'nacos';
  readonly password = `pw-${randomUUID()}`;
  #proc: ChildProcess | undefined;
  #dir = '';

  constructor(httpPort = 28848) {
    this.server = { host: '127.0.0.1', httpPort, baseUrl: `http://127.0.0.1:${httpPort}/nacos` };
  }

  async start(tokenTtlSeconds = 60): Promise<this> {
    const build = await nacosBuildDir(silentProgress);
    this.#dir = await mkdtemp(join(tmpdir(), 'isthmus-nacos-auth-'));
    await mkdir(join(this.#dir, 'conf'));
    const props = [
      `nacos.server.main.port=${this.server.httpPort}`,
      'nacos.server.contextPath=/nacos',
      'server.address=127.0.0.1',
      'nacos.deployment.type=server',
      'nacos.core.auth.system.type=nacos',
      'nacos.core.auth.enabled=true',
      `nacos.core.auth.plugin.nacos.token.expire.seconds=${tokenTtlSeconds}`,
      'nacos.core.auth.server.identity.key=isthmus-it',
      'nacos.core.auth.server.identity.value=isthmus-it',
      `nacos.core.auth.plugin.nacos.token.secret.key=${randomBytes(32).toString('base64')}`,
      'nacos.core.api.compatibility.client.enabled=true',
      'nacos.istio.mcp.server.enabled=false',
      'nacos.k8s.sync.enabled=false',
      'nacos.inetutils.ip-address=127.0.0.1',
      '',
    ].join('\n');
    await writeFile(join(this.#dir, 'conf', 'application.properties'), props);
    this.#proc = spawn('java', [
      '-Xms128m', '-Xmx512m', '-XX:TieredStopAtLevel=1',
      '-Dnacos.standalone=true', `-Dnacos.home=${this.#dir}`, '-Dnacos.server.ip=127.0.0.1', '-Dnacos.remote.grpc.listen.ip=127.0.0.1', '-Disthmus.bindHost=127.0.0.1',
      '-cp', `${join(build, 'classes')}:${join(build, 'lib', '*')}`,
      'isthmus.it.NacosTestServer', `--spring.config.additional-location=file:${join(this.#dir, 'conf')}/`,
    ], { cwd: this.#dir, stdio: 'ignore' });
    const deadline = Date.now() + 240_000;
    const post = (path: string, form: Record<string, string>): Promise<Response> =>
      fetch(`${this.server.baseUrl}${path}`, { method: 'POST', body: new URLSearchParams(form), signal: AbortSignal.timeout(5000) });
    for (;;) {
      if (Date.now() > deadline) throw new Error('private nacos did not start within 240 s');
      await new Promise((r) => setTimeout(r, 1000));
      try {
        // First start of a 3.x server with auth: the admin password is set once, then login works
        // as soon as the user cache reloads (a few seconds).
        await post('/v3/auth/user/admin', { password: this.password });
        if ((await post('/v3/auth/user/login', { username: this.username, password: this.password })).ok) return this;
      } catch {
        // not up yet
      }
    }
  }

  async stop(): Promise<void> {
    const proc = this.#proc;
    this.#proc = undefined;
    if (proc?.pid !== undefined && proc.exitCode === null) {
      const exited = new Promise((r) => proc.once('exit', r));
      proc.kill('SIGKILL');
      await exited;
    }
    if (this.#dir !== '') await rm(this.#dir, { recursive: true, force: true });
  }
}

// Helpers for the Consul real-server tests: the shared harness agent, a private agent (ACLs,
// restarts) on other loopback ports, and a TCP proxy that can cut a client off from Consul.
import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inject } from 'vitest';
import { shardFilter } from '../../adapters/consul/shards.ts';
import { cacheDir, ensureServers, runningConnection } from '../servers/index.ts';
import type {} from '../servers/provided-context.ts';

const LOOPBACK = '127.0.0.1';

/** The harness's Consul when the global setup provides one (undefined outside vitest's integration project). */
export function providedConsul(): { readonly httpUrl: string } | undefined {
  try {
    return inject('isthmusServers').consul;
  } catch {
    return undefined;
  }
}

/** Base URL of the harness's dev-mode agent (from the global setup, else started here). */
export async function sharedConsulUrl(): Promise<string> {
  const provided = inject('isthmusServers').consul;
  if (provided !== undefined) return provided.httpUrl;
  const running = await runningConnection('consul');
  if (running !== undefined) return running.httpUrl;
  const { connections } = await ensureServers(['consul']);
  if (connections.consul === undefined) throw new Error('the harness did not start consul');
  return connections.consul.httpUrl;
}

/** A short random id so runs sharing one agent never see each other's services. */
export function runId(): string {
  return randomUUID().slice(0, 8);
}

/** Plain HTTP to Consul for test set-up and checks (the adapter's own client is under test). */
export async function consulApi<T = unknown>(base: string, method: string, path: string, body?: unknown, token?: string): Promise<T> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (token !== undefined) headers['x-consul-token'] = token;
  const res = await fetch(base + path, { method, headers, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text}`);
  return (text === '' ? undefined : JSON.parse(text)) as T;
}

/** Deregisters a sink's synthetic node and every shard of it (`<node>_<k>`), whatever the shard count. */
export async function deregisterOwnNodes(base: string, node: string): Promise<void> {
  const nodes = await consulApi<{ Node: string }[]>(base, 'GET', `/v1/catalog/nodes?filter=${encodeURIComponent(shardFilter(node, 'Node'))}`);
  for (const n of nodes) await consulApi(base, 'PUT', '/v1/catalog/deregister', { Node: n.Node });
}

export { TcpProxy } from './tcp-proxy.ts';

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, LOOPBACK, () => { resolve(); }));
  const addr = server.address();
  await new Promise<void>((resolve) => server.close(() => { resolve(); }));
  if (addr === null || typeof addr !== 'object') throw new Error('no free port');
  return addr.port;
}

/** The consul binary the harness built (~/.cache/isthmus/servers/bin/consul-<version>-<hash>). */
export async function consulBinary(): Promise<string> {
  const bin = join(cacheDir(), 'bin');
  const names = existsSync(bin) ? (await readdir(bin)).filter((n) => n.startsWith('consul-') && !n.endsWith('.partial')) : [];
  const name = names.sort().at(-1);
  if (name === undefined) throw new Error(`no consul binary under ${bin}; run npm run servers -- provision consul`);
  return join(bin, name);
}

/**
 * A second dev-mode agent on free loopback ports with its own config and data dir, for what the
 * shared agent must not undergo: ACLs, and restarts (dev mode forgets everything on restart).
 */
export class PrivateConsul {
  readonly managementToken = randomUUID();
  readonly #acl: boolean;
  #proc: ChildProcess | undefined;
  #dir = '';
  #ports: Record<string, number> = {};

  constructor(options: { acl?: boolean } = {}) {
    this.#acl = options.acl ?? false;
  }

  get url(): string {
    return `http://${LOOPBACK}:${this.#ports['http']}`;
  }

  async start(): Promise<this> {
    if (this.#dir === '') {
      this.#dir = await mkdtemp(join(tmpdir(), 'isthmus-consul-'));
      for (const p of ['http', 'server', 'serf_lan', 'serf_wan']) this.#ports[p] = await freePort();
    }
    const ports = `ports { http = ${this.#ports['http']}, server = ${this.#ports['server']}, serf_lan = ${this.#ports['serf_lan']}, serf_wan = ${this.#ports['serf_wan']}, dns = -1, grpc = -1, grpc_tls = -1 }`;
    const acl = this.#acl ? `acl { enabled = true, default_policy = "deny", tokens { initial_management = "${this.managementToken}", agent = "${this.managementToken}" } }` : '';
    await writeFile(join(this.#dir, 'config.hcl'), `${ports}\n${acl}\ndisable_update_check = true\n`);
    const args = ['agent', '-dev', '-node=private-it', `-bind=${LOOPBACK}`, `-client=${LOOPBACK}`, `-advertise=${LOOPBACK}`, `-config-file=${join(this.#dir, 'config.hcl')}`, `-data-dir=${join(this.#dir, 'data')}`, '-disable-host-node-id'];
    this.#proc = spawn(await consulBinary(), args, { stdio: 'ignore' });
    await this.#waitLeader();
    return this;
  }

  /** Stops the agent (SIGTERM, then SIGKILL) and starts it again: dev mode comes back empty. */
  async restart(): Promise<void> {
    await this.#kill();
    await this.start();
  }

  async stop(): Promise<void> {
    await this.#kill();
    if (this.#dir !== '') await rm(this.#dir, { recursive: true, force: true });
  }

  async #kill(): Promise<void> {
    const proc = this.#proc;
    this.#proc = undefined;
    if (proc?.exitCode !== null || proc.pid === undefined) return;
    const exited = new Promise<void>((resolve) => proc.once('exit', () => { resolve(); }));
    proc.kill('SIGTERM');
    const timer = setTimeout(() => proc.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  }

  async #waitLeader(): Promise<void> {
    const deadline = Date.now() + 60_000;
    for (;;) {
      try {
        const res = await fetch(`${this.url}/v1/status/leader`);
        if (res.ok && (await res.text()).includes(LOOPBACK)) {
          if (!this.#acl) return;
          // With ACLs the management token must have been bootstrapped before it works.
          const probe = await fetch(`${this.url}/v1/acl/token/self`, { headers: { 'x-consul-token': this.managementToken } });
          if (probe.ok) return;
        }
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline) throw new Error('private consul did not elect a leader within 60 s');
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}

// Helpers for the Dubbo/ZooKeeper real-server tests: the harness ZooKeeper, a plain admin client
// for set-up and checks (the adapter's own client is under test), and native Dubbo records.
import { randomUUID } from 'node:crypto';
import { inject } from 'vitest';
import { Value } from '@sinclair/typebox/value';
import { ZkClient, DubboOptions, aclsFor, javaUrlEncode, formatDubboUrl } from '../../adapters/dubbo/index.ts';
import { CREATE_MODE, NO_NODE, zkCode } from '../../adapters/dubbo/client.ts';
import { ensureServers, runningConnection } from '../servers/index.ts';
import type {} from '../servers/provided-context.ts';

/**
 * Connect string of the harness ZooKeeper (from the global setup, else a running one, else
 * started here). ISTHMUS_DUBBO_ZK points the tests at another ZooKeeper (development only).
 */
export async function sharedZooKeeper(): Promise<string> {
  const override = process.env['ISTHMUS_DUBBO_ZK'];
  if (override !== undefined && override !== '') return override;
  const provided = inject('isthmusServers').zookeeper;
  if (provided !== undefined) return provided.connectString;
  const running = await runningConnection('zookeeper');
  if (running !== undefined) return running.connectString;
  const { connections } = await ensureServers(['zookeeper']);
  if (connections.zookeeper === undefined) throw new Error('the harness did not start zookeeper');
  return connections.zookeeper.connectString;
}

export function runId(): string {
  return randomUUID().slice(0, 8);
}

export function dubboOptions(connect: string, extra: Partial<DubboOptions>): DubboOptions {
  return Value.Default(DubboOptions, { connect, sessionTimeoutMs: 6000, requestTimeoutMs: 5000, ...extra }) as DubboOptions;
}

/** A plain client for the test itself: creates native records, reads, cleans up. */
export class ZkAdmin {
  readonly client: ZkClient;

  constructor(connect: string) {
    this.client = new ZkClient({ connect, sessionTimeoutMs: 30_000, requestTimeoutMs: 10_000, registry: 'test-admin' });
    this.client.start();
  }

  async children(path: string): Promise<string[]> {
    try {
      return await this.client.getChildren(path);
    } catch (err) {
      if (zkCode(err) === NO_NODE) return [];
      throw err;
    }
  }

  async data(path: string): Promise<string | undefined> {
    try {
      return (await this.client.getData(path)).data?.toString('utf8');
    } catch (err) {
      if (zkCode(err) === NO_NODE) return undefined;
      throw err;
    }
  }

  /** A provider URL node as a Dubbo 2.7 provider writes it (persistent here: no session to keep). */
  async putProvider(root: string, iface: string, url: string): Promise<string> {
    const path = `${root}/${javaUrlEncode(iface)}/providers/${javaUrlEncode(url)}`;
    await this.create(path, '');
    return path;
  }

  async create(path: string, data: string, mode = CREATE_MODE.PERSISTENT): Promise<void> {
    await this.client.create(path, Buffer.from(data), mode, aclsFor(undefined));
  }

  async remove(path: string): Promise<void> {
    try {
      await this.client.remove(path);
    } catch (err) {
      if (zkCode(err) !== NO_NODE) throw err;
    }
  }

  /** Deletes `path` and everything under it. */
  async removeTree(path: string): Promise<void> {
    const kids = await this.children(path);
    for (let i = 0; i < kids.length; i += 200) await Promise.all(kids.slice(i, i + 200).map((k) => this.removeTree(`${path}/${k}`)));
    await this.remove(path);
  }

  close(): void {
    this.client.close();
  }
}

/** A native interface-level provider URL (what Dubbo 2.7 writes), parameters sorted. */
export function nativeProviderUrl(iface: string, host: string, port: number, params: Record<string, string> = {}): string {
  return formatDubboUrl({ protocol: 'dubbo', host, port, path: iface, params: { application: 'vm-app', dubbo: '2.0.2', interface: iface, side: 'provider', ...params } });
}

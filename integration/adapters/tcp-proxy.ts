import { connect, createServer, type Server, type Socket } from 'node:net';
import type { ContractHarness } from '../../adapters/contract/index.ts';
import type { Source } from '../../bridge/ports/index.ts';

/**
 * A loopback TCP proxy in front of a real server, for outage tests: `cut` refuses and drops
 * every connection (the server "goes away" for clients behind this proxy only), `restore` lets
 * them back, `drop` closes the open connections once (a dropped watch). TLS passes through.
 */
export class TcpProxy {
  readonly #upstream: URL;
  readonly #sockets = new Set<Socket>();
  #server: Server | undefined;
  port = 0;

  constructor(upstream: string) {
    this.#upstream = new URL(upstream);
  }

  /** The proxy's address with the upstream's scheme. */
  get url(): string {
    return `${this.#upstream.protocol}//127.0.0.1:${this.port}`;
  }

  async start(): Promise<this> {
    const server = createServer((client) => {
      const up = connect(Number(this.#upstream.port), this.#upstream.hostname);
      for (const s of [client, up]) {
        this.#sockets.add(s);
        s.on('close', () => this.#sockets.delete(s));
        s.on('error', () => { client.destroy(); up.destroy(); });
      }
      client.pipe(up);
      up.pipe(client);
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => { resolve(); });
    });
    const addr = server.address();
    if (addr !== null && typeof addr === 'object') this.port = addr.port;
    this.#server = server;
    return this;
  }

  drop(): void {
    for (const s of this.#sockets) s.destroy();
  }

  async cut(): Promise<void> {
    const server = this.#server;
    this.#server = undefined;
    this.drop();
    if (server !== undefined) await new Promise<void>((resolve) => server.close(() => { resolve(); }));
  }

  async restore(): Promise<void> {
    if (this.#server === undefined) await this.start();
  }

  async close(): Promise<void> {
    await this.cut();
  }
}

/**
 * The contract suite's outage hooks for a harness whose sources reach their registry through
 * a TcpProxy each: cutting the proxy is the outage, dropping its connections a lost watch.
 */
export function proxiedOutages(proxyOf: ReadonlyMap<Source, TcpProxy>): Pick<ContractHarness, 'cutOff' | 'dropWatch'> {
  return {
    cutOff: async (source) => {
      const proxy = proxyOf.get(source);
      if (proxy === undefined) throw new Error('not a harness source');
      await proxy.cut();
      return () => proxy.restore();
    },
    dropWatch: (source) => {
      proxyOf.get(source)?.drop();
      return Promise.resolve();
    },
  };
}

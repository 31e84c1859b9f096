// A loopback TCP proxy that counts requests of a binary protocol (Nacos gRPC, ZooKeeper) with a
// frame parser per direction: those clients cannot be pointed at an HTTP proxy, and one upstream
// connection per client connection keeps what the server keys on the TCP peer (Nacos's
// connection id, ZooKeeper's session transport) exactly as without the proxy.
import { createConnection, createServer, type Server, type Socket, type AddressInfo } from 'node:net';
import type { FrameParser, WireEvent } from './scale-frames.ts';
import { WireCounter } from './scale-wire.ts';

export class TcpCountingProxy extends WireCounter {
  readonly #host: string;
  readonly #port: number;
  readonly #parser: (side: 'client' | 'server') => FrameParser;
  readonly #sockets = new Set<Socket>();
  #server: Server | undefined;
  /** Connections whose bytes stopped parsing (counted from then on as bytes only). */
  unparsed = 0;
  connections = 0;

  constructor(host: string, port: number, parser: (side: 'client' | 'server') => FrameParser) {
    super();
    this.#host = host;
    this.#port = port;
    this.#parser = parser;
  }

  /** Resolves with the port it listens on (127.0.0.1). */
  async start(): Promise<string> {
    const server = createServer((client) => { this.#connect(client); });
    this.#server = server;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return String((server.address() as AddressInfo).port);
  }

  async stop(): Promise<void> {
    for (const s of this.#sockets) s.destroy();
    const server = this.#server;
    if (server !== undefined) await new Promise<void>((resolve) => server.close(() => { resolve(); }));
  }

  #connect(client: Socket): void {
    this.connections++;
    const upstream = createConnection({ host: this.#host, port: this.#port });
    for (const s of [client, upstream]) {
      this.#sockets.add(s);
      s.setNoDelay(true);
      s.on('close', () => {
        this.#sockets.delete(s);
        client.destroy();
        upstream.destroy();
      });
      s.on('error', () => { s.destroy(); });
    }
    this.#watch(client, 'client');
    this.#watch(upstream, 'server');
    client.pipe(upstream);
    upstream.pipe(client);
  }

  #watch(socket: Socket, side: 'client' | 'server'): void {
    let parse: FrameParser | undefined = this.#parser(side);
    socket.on('data', (chunk: Buffer) => {
      if (side === 'server') this.count((c) => { c.bytesIn += chunk.length; });
      if (parse === undefined) return;
      let events: WireEvent[];
      try {
        events = parse(chunk);
      } catch {
        parse = undefined;
        this.unparsed++;
        return;
      }
      for (const e of events) {
        if (e.kind === 'request') this.request(e.cls, e.write);
        else if (e.kind === 'push') this.count((c) => { c.pushes++; });
      }
    });
  }
}

// A loopback HTTP proxy in front of Consul or the Kubernetes API server that counts what the
// bridge sends: the bridge builds its own clients from config, so counting on the wire is the only
// way to see every request (source, sink and node watch alike) without changing adapter code.
import { Agent, createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import type { AddressInfo } from 'node:net';
import { WireCounter } from './scale-wire.ts';

export type { WireCounts } from './scale-wire.ts';

export interface ProxyOptions {
  /** PEM bundle for an https upstream (the API server's self-signed certificate). */
  readonly ca?: Buffer;
  /** Request class for the per-path table; default: Consul-style `/v1/x/y/:name`. */
  readonly classify?: (path: string) => string;
  /** Long polls, which are counted apart and never timed. Default: Consul's `index` parameter. */
  readonly blocking?: (url: URL) => boolean;
}

/** `/v1/health/service/x` → `/v1/health/service/:name`, so the per-path table stays small. */
export function consulClass(path: string): string {
  const parts = path.split('/');
  if (parts.length > 4) return `${parts.slice(0, 4).join('/')}/:name`;
  return path;
}

/** `/apis/g/v/namespaces/ns/res/name` → `/apis/g/v/res/:name`: namespaces and names dropped. */
export function kubeClass(path: string): string {
  const parts = path.split('/').filter((p) => p !== '');
  const at = parts.indexOf('namespaces');
  if (at >= 0 && parts.length > at + 2) parts.splice(at, 2);
  else if (at >= 0 && parts.length === at + 2) parts[at + 1] = ':name';
  const base = parts[0] === 'api' ? 2 : 3; // /api/v1 or /apis/<group>/<version>
  if (parts.length > base + 1) parts.splice(base + 1, 1, ':name');
  return `/${parts.join('/')}`;
}

export const kubeWatch = (url: URL): boolean => ['true', '1'].includes(url.searchParams.get('watch') ?? '');

export class CountingProxy extends WireCounter {
  readonly #upstream: URL;
  readonly #https: boolean;
  readonly #agent: Agent;
  readonly #options: ProxyOptions;
  #server: Server | undefined;
  inFlight = 0;
  openBlocking = 0;
  maxInFlight = 0;
  maxOpenBlocking = 0;

  constructor(upstream: string, options: ProxyOptions = {}) {
    super();
    this.#upstream = new URL(upstream);
    this.#https = this.#upstream.protocol === 'https:';
    this.#agent = this.#https ? new HttpsAgent({ keepAlive: true, ...(options.ca === undefined ? {} : { ca: options.ca }) }) : new Agent({ keepAlive: true });
    this.#options = options;
  }

  async start(): Promise<string> {
    const server = createServer((req, res) => { this.#forward(req, res); });
    this.#server = server;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    const server = this.#server;
    if (server === undefined) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => { resolve(); }));
    this.#agent.destroy();
  }

  #forward(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', this.#upstream);
    const method = req.method ?? 'GET';
    const blocking = (this.#options.blocking ?? ((u: URL) => u.searchParams.has('index')))(url);
    const cls = `${blocking && this.#options.blocking !== undefined ? 'WATCH' : method} ${(this.#options.classify ?? consulClass)(url.pathname)}`;
    this.request(cls, method !== 'GET' && method !== 'HEAD', blocking);
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    if (blocking) {
      this.openBlocking++;
      this.maxOpenBlocking = Math.max(this.maxOpenBlocking, this.openBlocking);
    }
    let done = false;
    const finish = (): void => {
      if (done) return;
      done = true;
      this.inFlight--;
      if (blocking) this.openBlocking--;
    };
    const sent = performance.now();
    // The upstream sees its own host in Host, as a direct client would send it (not the proxy's port).
    const headers = { ...req.headers, host: this.#upstream.host };
    const send = this.#https ? httpsRequest : request;
    const up = send(url, { method, headers, agent: this.#agent }, (upRes) => {
      const status = upRes.statusCode ?? 502;
      const ms = performance.now() - sent;
      this.count((c) => {
        if (!blocking) c.msByPath[cls] = (c.msByPath[cls] ?? 0) + ms;
        if (status < 200 || status >= 300) c.non2xx++;
        if (status === 429) c.tooMany++;
      });
      res.writeHead(status, upRes.headers);
      upRes.on('data', (chunk: Buffer) => { this.count((c) => { c.bytesIn += chunk.length; }); });
      upRes.pipe(res);
      upRes.on('end', finish);
      upRes.on('error', finish);
    });
    up.on('error', (err) => {
      // After the bridge hung up (an aborted blocking query) this is our own teardown.
      if (done) return;
      finish();
      this.count((c) => { c.non2xx++; });
      if (!res.headersSent) res.writeHead(502);
      res.end(String(err));
    });
    // The bridge aborting a blocking query closes its side; the upstream request goes with it.
    res.on('close', () => {
      finish();
      up.destroy();
    });
    req.pipe(up);
  }
}

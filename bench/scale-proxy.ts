// A loopback HTTP proxy in front of Consul that counts what the bridge sends: the bridge builds
// its own client from config, so counting on the wire is the only way to see every request
// (source, sink and node watch alike) without changing adapter code for the bench.
import { Agent, createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface WireCounts {
  requests: number;
  /** PUT/POST/DELETE requests (every Consul write is one of these). */
  writes: number;
  /** Requests carrying `index` (blocking queries). */
  blocking: number;
  /** Answers by status class, plus 429 on its own. */
  non2xx: number;
  tooMany: number;
  bytesIn: number;
  byPath: Record<string, number>;
  /** Summed time to the upstream's answer headers, per path class (where the time goes). */
  msByPath: Record<string, number>;
}

function zero(): WireCounts {
  return { requests: 0, writes: 0, blocking: 0, non2xx: 0, tooMany: 0, bytesIn: 0, byPath: {}, msByPath: {} };
}

/** `/v1/health/service/x` → `/v1/health/service/:name`, so the per-path table stays small. */
function pathClass(path: string): string {
  const parts = path.split('/');
  if (parts.length > 4) return `${parts.slice(0, 4).join('/')}/:name`;
  return path;
}

export class CountingProxy {
  readonly #upstream: URL;
  readonly #agent = new Agent({ keepAlive: true });
  #server: Server | undefined;
  /** Counts since the last `phase()` call, and overall. */
  #phase = zero();
  readonly total = zero();
  inFlight = 0;
  openBlocking = 0;
  maxInFlight = 0;
  maxOpenBlocking = 0;

  constructor(upstream: string) {
    this.#upstream = new URL(upstream);
  }

  async start(): Promise<string> {
    const server = createServer((req, res) => { this.#forward(req, res); });
    this.#server = server;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  /** The counts since the previous call; starts the next phase. */
  phase(): WireCounts {
    const out = this.#phase;
    this.#phase = zero();
    return out;
  }

  async stop(): Promise<void> {
    const server = this.#server;
    if (server === undefined) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => { resolve(); }));
    this.#agent.destroy();
  }

  #count(f: (c: WireCounts) => void): void {
    f(this.#phase);
    f(this.total);
  }

  #forward(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', this.#upstream);
    const method = req.method ?? 'GET';
    const blocking = url.searchParams.has('index');
    const cls = `${method} ${pathClass(url.pathname)}`;
    this.#count((c) => {
      c.requests++;
      if (method !== 'GET' && method !== 'HEAD') c.writes++;
      if (blocking) c.blocking++;
      c.byPath[cls] = (c.byPath[cls] ?? 0) + 1;
    });
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
    const up = request(url, { method, headers: req.headers, agent: this.#agent }, (upRes) => {
      const status = upRes.statusCode ?? 502;
      const ms = performance.now() - sent;
      this.#count((c) => {
        if (!blocking) c.msByPath[cls] = (c.msByPath[cls] ?? 0) + ms;
        if (status < 200 || status >= 300) c.non2xx++;
        if (status === 429) c.tooMany++;
      });
      res.writeHead(status, upRes.headers);
      upRes.on('data', (chunk: Buffer) => { this.#count((c) => { c.bytesIn += chunk.length; }); });
      upRes.pipe(res);
      upRes.on('end', finish);
      upRes.on('error', finish);
    });
    up.on('error', (err) => {
      // After the bridge hung up (an aborted blocking query) this is our own teardown.
      if (done) return;
      finish();
      this.#count((c) => { c.non2xx++; });
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

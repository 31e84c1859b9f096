// HTTP to one API server over one keep-alive agent: JSON requests, and watch streams read line by
// line. Credentials are applied per request, so a rotated token or a new exec certificate needs no
// new agent (Node pools sockets by TLS options, so a changed certificate gets its own sockets).
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage, type RequestOptions } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { ApiError } from './api-error.ts';
import { readPem } from './access.ts';
import { Credentials } from './credentials.ts';
import type { ClusterAccess } from './kubeconfig.ts';

export type Query = Readonly<Record<string, string | number | boolean | undefined>>;

export interface StreamHandle { abort(): void }

export class Transport {
  readonly #base: URL;
  readonly #https: boolean;
  readonly #agent: HttpAgent;
  readonly #tls: RequestOptions & { ca?: Buffer; rejectUnauthorized?: boolean; servername?: string };
  readonly #credentials: Credentials;

  constructor(access: ClusterAccess) {
    this.#base = new URL(access.server.endsWith('/') ? access.server : `${access.server}/`);
    this.#https = this.#base.protocol === 'https:';
    this.#agent = this.#https ? new HttpsAgent({ keepAlive: true }) : new HttpAgent({ keepAlive: true });
    const u = access.user;
    const cert = u.clientCert !== undefined && u.clientKey !== undefined
      ? { cert: readPem(u.clientCert, 'client-certificate', access.origin), key: readPem(u.clientKey, 'client-key', access.origin) }
      : undefined;
    this.#credentials = new Credentials(u, cert);
    this.#tls = {
      ...(access.ca === undefined ? {} : { ca: readPem(access.ca, 'certificate-authority', access.origin) }),
      ...(access.insecureSkipTlsVerify ? { rejectUnauthorized: false } : {}),
      ...(access.tlsServerName === undefined ? {} : { servername: access.tlsServerName }),
    };
  }

  /** A JSON request; resolves with the parsed answer of a 2xx, rejects with ApiError otherwise. */
  async json(method: string, path: string, query: Query = {}, body?: unknown, contentType = 'application/json'): Promise<unknown> {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const send = async (): Promise<{ status: number; text: string }> => {
      const res = await this.#open(method, path, query, payload, contentType);
      return { status: res.statusCode ?? 0, text: await readAll(res) };
    };
    let reply = await send();
    // One retry with fresh credentials: an exec plugin's token may have been revoked early.
    if (reply.status === 401 && this.#credentials.refused()) reply = await send();
    if (reply.status < 200 || reply.status > 299) throw new ApiError(reply.status, reply.text);
    return reply.text === '' ? undefined : JSON.parse(reply.text);
  }

  /**
   * A watch: resolves once the server answered (so the caller knows it is connected). `done` runs
   * exactly once: null when the stream ends or is aborted, the error otherwise (ApiError for a
   * non-200 answer). Lines that are not JSON are skipped.
   */
  async stream(path: string, query: Query, onLine: (obj: unknown) => void, done: (err: unknown) => void): Promise<StreamHandle> {
    let finished = false;
    let res: IncomingMessage | undefined;
    const controller = new AbortController();
    const finish = (err: unknown): void => {
      if (finished) return;
      finished = true;
      controller.abort();
      res?.destroy();
      done(err);
    };
    const handle = { abort: () => { finish(null); } };
    try {
      let r = await this.#open('GET', path, query, undefined, undefined, controller.signal);
      if (r.statusCode === 401 && this.#credentials.refused()) {
        r.resume();
        r = await this.#open('GET', path, query, undefined, undefined, controller.signal);
      }
      res = r;
      if (r.statusCode !== 200) {
        const text = await readAll(r).catch(() => '');
        finish(new ApiError(r.statusCode ?? 0, text));
        return handle;
      }
      // A dead peer without RST would leave the stream open forever; TCP keep-alive notices it.
      r.socket.setKeepAlive(true, 30_000);
      r.setEncoding('utf8');
      let buffered = '';
      r.on('data', (chunk: string) => {
        buffered += chunk;
        let nl: number;
        while (!finished && (nl = buffered.indexOf('\n')) >= 0) {
          const line = buffered.slice(0, nl);
          buffered = buffered.slice(nl + 1);
          if (line.trim() === '') continue;
          let obj: unknown;
          try {
            obj = JSON.parse(line);
          } catch {
            continue;
          }
          onLine(obj);
        }
      });
      r.on('end', () => { finish(null); });
      r.on('close', () => { finish(null); });
      r.on('error', (err) => { finish(err); });
    } catch (err) {
      finish(err);
    }
    return handle;
  }

  async #open(method: string, path: string, query: Query, payload: string | undefined, contentType: string | undefined, signal?: AbortSignal): Promise<IncomingMessage> {
    const url = new URL(path.replace(/^\//, ''), this.#base);
    for (const [k, v] of Object.entries(query)) if (v !== undefined) url.searchParams.set(k, String(v));
    const who = await this.#credentials.present();
    const headers: Record<string, string | number> = { Accept: 'application/json' };
    if (who.authorization !== undefined) headers['Authorization'] = who.authorization;
    if (payload !== undefined) {
      headers['Content-Type'] = contentType ?? 'application/json';
      headers['Content-Length'] = Buffer.byteLength(payload);
    }
    const options: RequestOptions = {
      method,
      headers,
      agent: this.#agent,
      ...this.#tls,
      ...(who.cert === undefined || who.key === undefined ? {} : { cert: who.cert, key: who.key }),
      ...(signal === undefined ? {} : { signal }),
    };
    return new Promise((resolve, reject) => {
      const req = (this.#https ? httpsRequest : httpRequest)(url, options, resolve);
      req.on('error', reject);
      req.end(payload);
    });
  }
}

function readAll(res: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    res.on('data', (c: Buffer) => chunks.push(c));
    res.on('end', () => { resolve(Buffer.concat(chunks).toString('utf8')); });
    res.on('error', reject);
  });
}

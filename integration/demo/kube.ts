// A minimal admin REST client for the harness's kube-apiserver: the demo creates "pod" services
// the way the EndpointSlice controller would, without going through the adapter it demonstrates.
import { readFileSync } from 'node:fs';
import { request } from 'node:https';
import type { KubernetesConnection } from '../servers/index.ts';

export interface KubeReply {
  readonly status: number;
  readonly body: Record<string, unknown>;
}

export class KubeRest {
  readonly #conn: KubernetesConnection;
  readonly #ca: Buffer;

  constructor(conn: KubernetesConnection) {
    this.#conn = conn;
    this.#ca = readFileSync(conn.caFile);
  }

  call(method: string, path: string, body?: unknown): Promise<KubeReply> {
    const url = new URL(path, this.#conn.server);
    const headers = { Authorization: `Bearer ${this.#conn.token}`, 'Content-Type': 'application/json', Accept: 'application/json' };
    return new Promise((resolve, reject) => {
      const req = request(url, { method, ca: this.#ca, headers, timeout: 10_000 }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          let parsed: Record<string, unknown> = {};
          try {
            parsed = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>;
          } catch {
            parsed = {};
          }
          resolve({ status: res.statusCode ?? 0, body: parsed });
        });
      });
      req.on('timeout', () => { req.destroy(new Error(`${method} ${path}: timed out`)); });
      req.on('error', reject);
      if (body !== undefined) req.write(JSON.stringify(body));
      req.end();
    });
  }

  /** Throws unless 2xx or one of `ok`. */
  async must(method: string, path: string, body?: unknown, ok: readonly number[] = []): Promise<Record<string, unknown>> {
    const reply = await this.call(method, path, body);
    if ((reply.status < 200 || reply.status >= 300) && !ok.includes(reply.status)) {
      throw new Error(`kube-apiserver: ${method} ${path} → HTTP ${reply.status}: ${JSON.stringify(reply.body).slice(0, 300)}`);
    }
    return reply.body;
  }
}

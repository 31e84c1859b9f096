// The few Kubernetes REST calls the drill makes as cluster admin: it plays the parts of the
// user (a Service) and of the EndpointSlice controller (slices for its "pods").
import { readFileSync } from 'node:fs';
import { request } from 'node:https';

export interface KubeAccess {
  readonly server: string;
  readonly token: string;
  readonly caFile: string;
}

export interface KubeReply {
  readonly status: number;
  readonly body: Record<string, unknown>;
}

export class Kube {
  readonly #access: KubeAccess;
  readonly #ca: Buffer;

  constructor(access: KubeAccess) {
    this.#access = access;
    this.#ca = readFileSync(access.caFile);
  }

  /** `contentType` for PATCH (e.g. application/merge-patch+json); JSON otherwise. */
  call(method: string, path: string, body?: unknown, contentType = 'application/json'): Promise<KubeReply> {
    const url = new URL(path, this.#access.server);
    return new Promise((resolve, reject) => {
      const req = request(url, {
        method,
        ca: this.#ca,
        timeout: 10_000,
        headers: { Authorization: `Bearer ${this.#access.token}`, 'Content-Type': contentType, Accept: 'application/json' },
      }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let parsed: Record<string, unknown>;
          try {
            parsed = JSON.parse(text) as Record<string, unknown>;
          } catch {
            parsed = { text };
          }
          resolve({ status: res.statusCode ?? 0, body: parsed });
        });
      });
      req.on('timeout', () => req.destroy(new Error(`${method} ${path}: timed out`)));
      req.on('error', reject);
      if (body !== undefined) req.write(JSON.stringify(body));
      req.end();
    });
  }

  /** Throws unless 2xx or one of `ok`. */
  async must(method: string, path: string, body?: unknown, ok: readonly number[] = [], contentType?: string): Promise<Record<string, unknown>> {
    const reply = await this.call(method, path, body, contentType);
    if ((reply.status < 200 || reply.status >= 300) && !ok.includes(reply.status)) {
      throw new Error(`${method} ${path} → ${reply.status}: ${JSON.stringify(reply.body).slice(0, 400)}`);
    }
    return reply.body;
  }
}

export interface SliceEndpointView {
  readonly address: string;
  readonly port: number;
  readonly ready: boolean;
  /** Written by an Isthmus bridge (imported from a VM registry) rather than for a pod. */
  readonly imported: boolean;
}

interface RawSlice {
  metadata?: { labels?: Record<string, string> };
  ports?: { name?: string; port?: number }[];
  endpoints?: { addresses?: string[]; conditions?: { ready?: boolean } }[];
}

/** Every endpoint of a Service's slices, for the named port: what kube-proxy would route to. */
export async function sliceEndpoints(kube: Kube, namespace: string, service: string, portName = 'http'): Promise<SliceEndpointView[]> {
  const body = await kube.must('GET', `/apis/discovery.k8s.io/v1/namespaces/${namespace}/endpointslices?labelSelector=${encodeURIComponent(`kubernetes.io/service-name=${service}`)}`);
  const out: SliceEndpointView[] = [];
  for (const slice of (body.items ?? []) as RawSlice[]) {
    const port = slice.ports?.find((p) => (p.name ?? '') === portName)?.port;
    if (port === undefined) continue;
    const labels = slice.metadata?.labels ?? {};
    const imported = labels['endpointslice.kubernetes.io/managed-by'] === 'bridge.isthmus.dev' || labels['isthmus.dev/managed-by'] !== undefined;
    for (const ep of slice.endpoints ?? []) {
      const address = ep.addresses?.[0];
      if (address === undefined) continue;
      // Absent ready means ready (discovery/v1).
      out.push({ address, port, ready: ep.conditions?.ready ?? true, imported });
    }
  }
  return out;
}

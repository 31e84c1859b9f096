// One Service's EndpointSlices as a reader in the cluster sees them: LIST, then WATCH from the
// list's resourceVersion, keeping every slice's addresses. The scale bench's Consul → Kubernetes
// route times a change by the watch event that shows it, as kube-proxy and every other slice
// reader would see it; polling with a LIST every 20 ms added half the interval plus a LIST to
// each figure (issue 17), while the routes into Consul and ZooKeeper already time by blocking
// query and watch.
import { readFileSync } from 'node:fs';
import type { ClientRequest } from 'node:http';
import { request } from 'node:https';
import type { KubeAccess } from '../integration/drill/kube.ts';

interface Slice {
  readonly metadata?: { readonly name?: string; readonly resourceVersion?: string };
  readonly endpoints?: readonly { readonly addresses?: readonly string[] }[] | null;
}

interface Waiter {
  readonly seen: (addresses: ReadonlySet<string>) => boolean;
  readonly resolve: (at: number) => void;
  readonly reject: (error: Error) => void;
}

export class SliceWatch {
  readonly #access: KubeAccess;
  readonly #ca: Buffer;
  readonly #path: string;
  readonly #selector: string;
  readonly #slices = new Map<string, readonly string[]>();
  readonly #waiters = new Set<Waiter>();
  #req: ClientRequest | undefined;
  #failed: Error | undefined;

  constructor(access: KubeAccess, namespace: string, service: string) {
    this.#access = access;
    this.#ca = readFileSync(access.caFile);
    this.#path = `/apis/discovery.k8s.io/v1/namespaces/${namespace}/endpointslices`;
    this.#selector = `labelSelector=${encodeURIComponent(`kubernetes.io/service-name=${service}`)}`;
  }

  /** Lists the slices, then watches from there; resolves once the watch is open. */
  async start(): Promise<void> {
    const list = JSON.parse(await this.#get(`${this.#path}?${this.#selector}`)) as { items?: Slice[]; metadata?: { resourceVersion?: string } };
    for (const slice of list.items ?? []) this.#put(slice);
    const rv = list.metadata?.resourceVersion ?? '';
    await new Promise<void>((resolve, reject) => {
      const req = this.#request(`${this.#path}?${this.#selector}&watch=1&resourceVersion=${encodeURIComponent(rv)}`, (res) => {
        if (res.statusCode !== 200) {
          reject(new Error(`watch of ${this.#path} → ${res.statusCode ?? 0}`));
          res.resume();
          return;
        }
        resolve();
        let buffered = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          buffered += chunk;
          let nl: number;
          while ((nl = buffered.indexOf('\n')) !== -1) {
            const line = buffered.slice(0, nl).trim();
            buffered = buffered.slice(nl + 1);
            if (line !== '') this.#event(line);
          }
        });
        res.on('end', () => { this.#fail(new Error('slice watch ended')); });
      });
      req.on('error', (error) => { reject(error); this.#fail(error); });
      req.end();
      this.#req = req;
    });
  }

  /** performance.now() at the first event after which `seen` holds (now, if it holds already). */
  until(seen: (addresses: ReadonlySet<string>) => boolean, timeoutMs: number): Promise<number> {
    if (this.#failed !== undefined) return Promise.reject(this.#failed);
    if (seen(this.addresses())) return Promise.resolve(performance.now());
    return new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => { this.#waiters.delete(waiter); reject(new Error(`not seen in the slice watch within ${timeoutMs / 1000} s`)); }, timeoutMs);
      const waiter: Waiter = {
        seen,
        resolve: (at) => { clearTimeout(timer); resolve(at); },
        reject: (error) => { clearTimeout(timer); reject(error); },
      };
      this.#waiters.add(waiter);
    });
  }

  addresses(): Set<string> {
    return new Set([...this.#slices.values()].flat());
  }

  close(): void {
    this.#req?.destroy();
    this.#req = undefined;
  }

  #event(line: string): void {
    const at = performance.now();
    const event = JSON.parse(line) as { type?: string; object?: Slice & { message?: string } };
    if (event.type === 'ERROR') {
      this.#fail(new Error(`slice watch: ${event.object?.message ?? line.slice(0, 200)}`));
      return;
    }
    const name = event.object?.metadata?.name;
    if (name === undefined) return;
    if (event.type === 'DELETED') this.#slices.delete(name);
    else if (event.type === 'ADDED' || event.type === 'MODIFIED') this.#put(event.object!);
    const addresses = this.addresses();
    for (const waiter of [...this.#waiters]) {
      if (!waiter.seen(addresses)) continue;
      this.#waiters.delete(waiter);
      waiter.resolve(at);
    }
  }

  #put(slice: Slice): void {
    const name = slice.metadata?.name;
    if (name !== undefined) this.#slices.set(name, (slice.endpoints ?? []).flatMap((e) => e.addresses ?? []));
  }

  #fail(error: Error): void {
    if (this.#req === undefined) return;
    this.#failed ??= error;
    for (const waiter of this.#waiters) waiter.reject(error);
    this.#waiters.clear();
  }

  #get(path: string): Promise<string> {
    return new Promise((resolve, reject) => {
      const req = this.#request(path, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => { text += c; });
        res.on('end', () => { if (res.statusCode === 200) resolve(text); else reject(new Error(`GET ${path} → ${res.statusCode ?? 0}: ${text.slice(0, 300)}`)); });
      });
      req.on('error', reject);
      req.end();
    });
  }

  #request(path: string, onResponse: Parameters<typeof request>[2]): ClientRequest {
    return request(new URL(path, this.#access.server), {
      method: 'GET',
      ca: this.#ca,
      headers: { Authorization: `Bearer ${this.#access.token}`, Accept: 'application/json' },
    }, onResponse);
  }
}

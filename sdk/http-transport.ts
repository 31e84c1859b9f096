import { Backoff } from './backoff.ts';
import {
  IsthmusError,
  type Filters,
  type ResolvedEndpoint,
  type ResolvedService,
  type ServiceListing,
  type ServiceName,
  type Transport,
  type WatchHandlers,
} from './types.ts';

export interface HttpTransportOptions {
  /** Resolver base URL, e.g. http://127.0.0.1:8080 (a VM-local daemon) or the in-cluster Service. */
  readonly url: string;
  readonly token?: string;
  /** Long-poll wait per request; the bridge caps it at 5 minutes. */
  readonly waitSeconds?: number;
  readonly fetch?: typeof fetch;
}

interface WireEndpoint {
  address: string;
  ports: Record<string, number>;
  protocol?: string;
  ready: boolean;
  weight: number;
  zone?: string;
  metadata: Record<string, string>;
  origin: { registry: string };
}

interface WireEntry {
  ref: { namespace: string; name: string };
  revision: number;
  endpoints: WireEndpoint[];
  registries: string[];
}

function toEndpoint(ep: WireEndpoint): ResolvedEndpoint {
  return {
    address: ep.address,
    ports: ep.ports,
    ...(ep.protocol === undefined ? {} : { protocol: ep.protocol }),
    ready: ep.ready,
    weight: ep.weight,
    ...(ep.zone === undefined ? {} : { zone: ep.zone }),
    origin: ep.origin.registry,
    metadata: ep.metadata,
  };
}

function toService(e: WireEntry): ResolvedService {
  return { namespace: e.ref.namespace, name: e.ref.name, revision: e.revision, endpoints: e.endpoints.map(toEndpoint), registries: e.registries, split: {} };
}

function query(filters: Filters | undefined, extra: Record<string, string> = {}): string {
  const q = new URLSearchParams(extra);
  if (filters?.healthy === true) q.set('healthy', 'true');
  if (filters?.origin !== undefined) q.set('origin', filters.origin);
  if (filters?.zone !== undefined) q.set('zone', filters.zone);
  if (filters?.mesh === true) q.set('mesh', 'true');
  return q.size === 0 ? '' : `?${q.toString()}`;
}

/** The resolver's HTTP API: lookups, and watches as long-polls (the index carries across reconnects). */
export class HttpTransport implements Transport {
  readonly #base: string;
  readonly #headers: Record<string, string>;
  readonly #waitSeconds: number;
  readonly #fetch: typeof fetch;
  readonly #closing = new AbortController();

  constructor(options: HttpTransportOptions) {
    this.#base = options.url.replace(/\/+$/, '');
    this.#headers = { accept: 'application/json', ...(options.token === undefined ? {} : { authorization: `Bearer ${options.token}` }) };
    this.#waitSeconds = options.waitSeconds ?? 30;
    this.#fetch = options.fetch ?? fetch;
  }

  async listServices(namespace?: string): Promise<ServiceListing> {
    const res = await this.#get(`/v1/services${namespace === undefined ? '' : `?namespace=${encodeURIComponent(namespace)}`}`);
    return (await res.json()) as ServiceListing;
  }

  async resolve(service: ServiceName, filters?: Filters): Promise<ResolvedService | undefined> {
    const res = await this.#get(`${path(service)}${query(filters)}`, true);
    if (res.status === 404) return undefined;
    return toService((await res.json()) as WireEntry);
  }

  watch(service: ServiceName, filters: Filters, handlers: WatchHandlers): () => void {
    const stop = new AbortController();
    const backoff = new Backoff();
    let index = 0;
    // A function, not a property read: the signal flips while we await, which narrowing cannot see.
    const over = (): boolean => stop.signal.aborted || this.#closing.signal.aborted;
    const loop = async (): Promise<void> => {
      while (!over()) {
        try {
          const extra: Record<string, string> = index === 0 ? {} : { index: String(index), wait: `${this.#waitSeconds}s` };
          const res = await this.#get(`${path(service)}${query(filters, extra)}`, true, stop.signal);
          const next = Number(res.headers.get('x-isthmus-index') ?? '0');
          const body = res.status === 404 ? undefined : toService((await res.json()) as WireEntry);
          backoff.reset();
          if (next !== index) {
            index = next;
            handlers.onUpdate({ index, service: body });
          }
        } catch (err) {
          if (over()) return;
          handlers.onError?.(err instanceof Error ? err : new Error(String(err)));
          await sleep(backoff.next(), stop.signal);
        }
      }
    };
    void loop();
    return () => { stop.abort(); };
  }

  close(): void {
    this.#closing.abort();
  }

  async #get(p: string, allow404 = false, signal?: AbortSignal): Promise<Response> {
    const signals = [this.#closing.signal, ...(signal === undefined ? [] : [signal])];
    const res = await this.#fetch(this.#base + p, { headers: this.#headers, signal: AbortSignal.any(signals) });
    if (res.ok || (allow404 && res.status === 404)) return res;
    const text = await res.text();
    let code = `HTTP_${res.status}`;
    let message = text;
    try {
      const body = JSON.parse(text) as { code?: string; message?: string };
      code = body.code ?? code;
      message = body.message ?? text;
    } catch {
      // not JSON: keep the raw text
    }
    throw new IsthmusError(code, `isthmus resolver ${this.#base}: ${message}`);
  }
}

function path(s: ServiceName): string {
  return `/v1/services/${encodeURIComponent(s.namespace)}/${encodeURIComponent(s.name)}`;
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => { clearTimeout(t); resolve(); }, { once: true });
  });
}

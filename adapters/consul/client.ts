import { BridgeError } from '../../bridge/errors/index.ts';

export interface ConsulClientOptions {
  /** Base URL, e.g. http://127.0.0.1:8500. */
  readonly address: string;
  readonly token?: string;
  readonly datacenter?: string;
  readonly namespace?: string;
  readonly partition?: string;
  readonly requestTimeoutMs?: number;
  /** Registry id, for error messages only. */
  readonly registry?: string;
}

export interface ReadOptions {
  /** Blocking query: return when the index moves past this one, or after `waitSeconds`. */
  readonly index?: number;
  readonly waitSeconds?: number;
  readonly signal?: AbortSignal;
  readonly params?: Readonly<Record<string, string | undefined>>;
}

export interface ReadResult<T> {
  readonly body: T;
  /** X-Consul-Index; 0 when the endpoint sends none. */
  readonly index: number;
}

/** One operation of a /v1/txn request (catalog node, service or check). */
export type TxnOp = Readonly<Record<string, unknown>>;

/**
 * The only code that speaks HTTP to Consul. Plain fetch rather than the `consul` npm client: we
 * need /v1/txn (the client has no catalog txn), full control of blocking-query indexes and aborts,
 * and typed errors with stable codes. Counts write requests so tests can prove "zero writes".
 */
export class ConsulClient {
  readonly #base: string;
  readonly #headers: Record<string, string>;
  readonly #params: Record<string, string>;
  readonly #timeoutMs: number;
  readonly #registry: string;
  /** Write requests sent (PUT/txn), whatever their result. */
  writes = 0;
  /** Read requests sent, blocking or not. */
  reads = 0;

  constructor(o: ConsulClientOptions) {
    this.#base = o.address.replace(/\/+$/, '');
    this.#headers = { accept: 'application/json' };
    // The header keeps the secret out of URLs, which proxies and access logs record.
    if (o.token !== undefined && o.token !== '') this.#headers['x-consul-token'] = o.token;
    this.#params = {};
    if (o.datacenter !== undefined) this.#params['dc'] = o.datacenter;
    if (o.namespace !== undefined) this.#params['ns'] = o.namespace;
    if (o.partition !== undefined) this.#params['partition'] = o.partition;
    this.#timeoutMs = o.requestTimeoutMs ?? 10_000;
    this.#registry = o.registry ?? 'consul';
  }

  get address(): string {
    return this.#base;
  }

  async read<T>(path: string, o: ReadOptions = {}): Promise<ReadResult<T>> {
    const params: Record<string, string | undefined> = { ...o.params };
    let timeout = this.#timeoutMs;
    if (o.index !== undefined && o.index > 0) {
      const wait = o.waitSeconds ?? 60;
      params['index'] = String(o.index);
      params['wait'] = `${wait}s`;
      // Consul adds up to wait/16 of jitter before answering.
      timeout = Math.ceil(wait * 1000 * (17 / 16)) + this.#timeoutMs;
    }
    this.reads++;
    const res = await this.#send('GET', path, params, undefined, timeout, o.signal);
    const index = Number(res.headers.get('x-consul-index') ?? '0');
    const body = (await res.json()) as T;
    return { body, index: Number.isFinite(index) ? index : 0 };
  }

  async put<T>(path: string, body: unknown, params: Readonly<Record<string, string | undefined>> = {}): Promise<T> {
    this.writes++;
    const res = await this.#send('PUT', path, params, body, this.#timeoutMs);
    const text = await res.text();
    return (text === '' ? undefined : JSON.parse(text)) as T;
  }

  /** One atomic /v1/txn request; all operations apply or none do. */
  async txn(ops: readonly TxnOp[]): Promise<void> {
    this.writes++;
    await this.#send('PUT', '/v1/txn', {}, ops, this.#timeoutMs);
  }

  async #send(
    method: string,
    path: string,
    params: Readonly<Record<string, string | undefined>>,
    body: unknown,
    timeoutMs: number,
    signal?: AbortSignal,
  ): Promise<Response> {
    const url = new URL(this.#base + path);
    for (const [k, v] of Object.entries({ ...this.#params, ...params })) if (v !== undefined) url.searchParams.set(k, v);
    const timer = AbortSignal.timeout(timeoutMs);
    const all = signal === undefined ? timer : AbortSignal.any([signal, timer]);
    const headers = body === undefined ? this.#headers : { ...this.#headers, 'content-type': 'application/json' };
    let res: Response;
    try {
      res = await fetch(url, { method, headers, signal: all, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
    } catch (err) {
      if (signal?.aborted === true) throw err;
      const why = timer.aborted ? `no answer within ${timeoutMs} ms` : causeOf(err);
      throw new BridgeError('ISTHMUS_REGISTRY_UNREACHABLE', `${this.#registry}: ${method} ${path} at ${this.#base} failed: ${why}`, {
        cause: err,
        details: { registry: this.#registry },
      });
    }
    if (res.ok) return res;
    const text = (await res.text().catch(() => '')).trim().slice(0, 500);
    throw httpError(this.#registry, method, path, res.status, text);
  }
}

function httpError(registry: string, method: string, path: string, status: number, text: string): BridgeError {
  const msg = `${registry}: ${method} ${path} answered ${status}${text === '' ? '' : `: ${text}`}`;
  const details = { registry, status };
  // A rolled-back /v1/txn answers 409 with per-operation errors; ACL denials can hide in there.
  if (status === 401 || status === 403 || (status === 409 && /permission denied|ACL not found/i.test(text))) {
    // Consul says "ACL not found" for an unknown token and "Permission denied" for a weak one.
    return new BridgeError('ISTHMUS_REGISTRY_AUTH', `${msg} (check the ACL token and its policy)`, { details });
  }
  if (status === 409 && !path.startsWith('/v1/txn')) return new BridgeError('ISTHMUS_REGISTRY_CONFLICT', msg, { details });
  if (status === 429 || status >= 500) return new BridgeError('ISTHMUS_REGISTRY_UNREACHABLE', msg, { details });
  return new BridgeError('ISTHMUS_REGISTRY_REJECTED', msg, { details });
}

function causeOf(err: unknown): string {
  if (err instanceof Error) {
    const cause = (err as Error & { cause?: unknown }).cause;
    if (cause instanceof Error) return `${err.message} (${(cause as Error & { code?: string }).code ?? cause.message})`;
    return err.message;
  }
  return String(err);
}

// Test-only helpers for the resolver tests (excluded from the build by tsconfig.build.json).
import { request, type IncomingMessage, type ClientRequest } from 'node:http';
import type { Endpoint, RegistryId, ServiceRef, ServiceSnapshot } from '../../model/index.ts';
import { refKey } from '../../model/index.ts';
import type { QuarantinedRecord, Source, SourceHealth } from '../../ports/index.ts';
import type { StatusProvider } from '../../sync/status.ts';

/** A Source whose cache the test writes directly; every write nudges synchronously. */
export class FakeSource implements Source {
  readonly id: RegistryId;
  readonly #snapshots = new Map<string, ServiceSnapshot>();
  readonly #listeners = new Set<(ref: ServiceRef) => void>();

  constructor(id: RegistryId) {
    this.id = id;
  }

  start(): Promise<void> {
    return Promise.resolve();
  }

  hasSynced(): boolean {
    return true;
  }

  health(): SourceHealth {
    return { reachable: true, lastContact: Date.now() };
  }

  keys(): Iterable<ServiceRef> {
    return [...this.#snapshots.values()].map((s) => s.ref);
  }

  get(ref: ServiceRef): ServiceSnapshot | undefined {
    return this.#snapshots.get(refKey(ref));
  }

  onChange(listener: (ref: ServiceRef) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  quarantined(): readonly QuarantinedRecord[] {
    return [];
  }

  put(ref: ServiceRef, endpoints: readonly Endpoint[], metadata: Record<string, string> = {}): void {
    this.#snapshots.set(refKey(ref), {
      ref,
      ports: [{ name: 'http', port: 8080, protocol: 'http' }],
      endpoints,
      metadata,
      origin: this.id,
    });
    this.#nudge(ref);
  }

  remove(ref: ServiceRef): void {
    this.#snapshots.delete(refKey(ref));
    this.#nudge(ref);
  }

  #nudge(ref: ServiceRef): void {
    for (const l of this.#listeners) l(ref);
  }
}

export function endpoint(registry: RegistryId, address: string, extra: Partial<Endpoint> = {}): Endpoint {
  return {
    address,
    ports: { http: 8080 },
    protocol: 'http',
    ready: true,
    serving: true,
    terminating: false,
    weight: 100,
    metadata: {},
    origin: { registry, nativeId: `${registry}-${address}` },
    ...extra,
  };
}

export const fakeStatus: StatusProvider = {
  summary: () => ({
    bridgeId: 'test-bridge',
    leader: true,
    sources: [],
    routes: [],
    queueDepth: 0,
    held: [],
    quarantined: [],
    errors: [],
  }),
  explain: (ref) => ({ ref, sources: [], targets: [], quarantined: [] }),
};

export interface SseMessage {
  readonly event?: string;
  readonly id?: string;
  readonly data?: string;
  /** Set for comment lines (`: heartbeat`). */
  readonly comment?: string;
}

/**
 * Reads a text/event-stream response message by message. `next()` resolves with the next message
 * as soon as it arrives, and `ended()` when the server ends the response.
 */
export class SseReader {
  readonly response: IncomingMessage;
  readonly #req: ClientRequest;
  readonly #queue: SseMessage[] = [];
  readonly #waiting: ((m: SseMessage) => void)[] = [];
  readonly #end: Promise<void>;
  #buffer = '';

  private constructor(req: ClientRequest, response: IncomingMessage) {
    this.#req = req;
    this.response = response;
    response.setEncoding('utf8');
    response.on('data', (chunk: string) => { this.#push(chunk); });
    this.#end = new Promise((resolve) => {
      response.once('end', resolve);
      response.once('close', resolve);
    });
  }

  static open(url: string, headers: Record<string, string> = {}): Promise<SseReader> {
    return new Promise((resolve, reject) => {
      const req = request(url, { headers: { accept: 'text/event-stream', ...headers } }, (res) => {
        resolve(new SseReader(req, res));
      });
      req.once('error', reject);
      req.end();
    });
  }

  next(): Promise<SseMessage> {
    const m = this.#queue.shift();
    if (m !== undefined) return Promise.resolve(m);
    return new Promise((resolve) => this.#waiting.push(resolve));
  }

  /** The next message that is not a comment. */
  async nextEvent(): Promise<SseMessage> {
    for (;;) {
      const m = await this.next();
      if (m.comment === undefined) return m;
    }
  }

  ended(): Promise<void> {
    return this.#end;
  }

  close(): void {
    this.#req.destroy();
  }

  #push(chunk: string): void {
    this.#buffer += chunk;
    let cut: number;
    while ((cut = this.#buffer.indexOf('\n\n')) !== -1) {
      const block = this.#buffer.slice(0, cut);
      this.#buffer = this.#buffer.slice(cut + 2);
      const msg: Record<string, string> = {};
      for (const line of block.split('\n')) {
        if (line.startsWith(':')) msg['comment'] = line.slice(1).trim();
        else {
          const colon = line.indexOf(':');
          const field = line.slice(0, colon);
          const value = line.slice(colon + 1).replace(/^ /, '');
          msg[field] = field in msg ? `${msg[field] ?? ''}\n${value}` : value;
        }
      }
      const waiter = this.#waiting.shift();
      if (waiter === undefined) this.#queue.push(msg);
      else waiter(msg);
    }
  }
}

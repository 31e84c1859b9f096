// A consumer running "in a pod": it knows only Kubernetes. It reads the ready endpoints of the
// Service's EndpointSlices (what kube-proxy would program) and calls them round-robin at a
// steady rate, one new connection per call, as a client behind a Service's ClusterIP would.
// VM providers reach it only because Isthmus imports them from the VM registry into slices.
import { request } from 'node:http';
import type { CallRecord, Side } from './record.ts';
import { type Kube, sliceEndpoints } from './kube.ts';

export interface PodConsumerOptions {
  readonly kube: Kube;
  readonly namespace: string;
  readonly service: string;
  readonly ratePerSecond: number;
  readonly refreshMs: number;
  readonly timeoutMs: number;
}

function callOnce(host: string, port: number, timeoutMs: number): Promise<Omit<CallRecord, 't'>> {
  const started = Date.now();
  return new Promise((resolve) => {
    const req = request({ host, port, path: '/hello', method: 'GET', agent: false, timeout: timeoutMs }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const ms = Date.now() - started;
        if (res.statusCode !== 200) {
          resolve({ ok: false, error: `HTTP ${res.statusCode} from ${host}:${port}`, ms });
          return;
        }
        try {
          const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { instance?: string; side?: string };
          const side: Side | undefined = body.side === 'vm' || body.side === 'pod' ? body.side : undefined;
          resolve({ ok: true, instance: body.instance, side, ms });
        } catch {
          resolve({ ok: false, error: `unparseable body from ${host}:${port}`, ms });
        }
      });
      res.on('error', (error) => { resolve({ ok: false, error: `${error.message} (${host}:${port})`, ms: Date.now() - started }); });
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', (error) => { resolve({ ok: false, error: `${error.message} (${host}:${port})`, ms: Date.now() - started }); });
    req.end();
  });
}

export class PodConsumer {
  readonly records: CallRecord[] = [];
  readonly #o: PodConsumerOptions;
  #targets: { address: string; port: number }[] = [];
  #next = 0;
  #timers: NodeJS.Timeout[] = [];
  readonly #inflight = new Set<Promise<void>>();
  #refreshing = false;

  constructor(options: PodConsumerOptions) {
    this.#o = options;
  }

  /** Endpoints the consumer is currently calling. */
  get targets(): readonly { address: string; port: number }[] {
    return this.#targets;
  }

  async start(): Promise<void> {
    await this.#refresh();
    this.#timers.push(setInterval(() => { void this.#refresh(); }, this.#o.refreshMs));
    // Calls are owed by elapsed time, not by timer ticks: a loaded event loop delays ticks, and
    // the drill promises a rate, so late ticks catch up instead of lowering it.
    const started = Date.now();
    let fired = 0;
    this.#timers.push(setInterval(() => {
      const owed = Math.floor(((Date.now() - started) * this.#o.ratePerSecond) / 1000) - fired;
      for (let i = 0; i < owed; i++) this.#tick();
      fired += Math.max(0, owed);
    }, 10));
  }

  async stop(): Promise<void> {
    for (const timer of this.#timers) clearInterval(timer);
    this.#timers = [];
    await Promise.all([...this.#inflight]);
  }

  async #refresh(): Promise<void> {
    if (this.#refreshing) return;
    this.#refreshing = true;
    try {
      const eps = await sliceEndpoints(this.#o.kube, this.#o.namespace, this.#o.service);
      this.#targets = eps.filter((e) => e.ready).map((e) => ({ address: e.address, port: e.port }));
    } catch {
      // Keep the last known endpoints, as kube-proxy keeps its rules while the apiserver is away.
    } finally {
      this.#refreshing = false;
    }
  }

  #tick(): void {
    const t = Date.now();
    const targets = this.#targets;
    if (targets.length === 0) {
      this.records.push({ t, ok: false, error: 'no ready endpoints' });
      return;
    }
    const target = targets[this.#next++ % targets.length]!;
    const call = callOnce(target.address, target.port, this.#o.timeoutMs).then((r) => { this.records.push({ t, ...r }); });
    this.#inflight.add(call);
    void call.finally(() => this.#inflight.delete(call));
  }
}

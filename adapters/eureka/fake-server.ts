// An in-memory Eureka for unit tests, on loopback HTTP: the REST calls the adapter makes, with
// the behaviour measured on Spring Cloud Netflix 4.3.0 (204 register, 404 renew of an unknown
// lease, status overrides that win, a delta of recent changes plus the reconcile hash, the
// dashboard's "Lease expiration enabled" row). Not a model of leases expiring by themselves.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { listenLoopback, type LoopbackHttp } from '../shared/testing/loopback-http.ts';
import { reconcileHash, statusOf, type EurekaInstance } from './native.ts';

export interface FakeEureka {
  readonly base: string;
  /** APP → id → instance. */
  readonly apps: Map<string, Map<string, EurekaInstance>>;
  /** Every request as `METHOD path` (query included). */
  readonly log: string[];
  /** Changes since the last `clearDelta`, as the delta queue would hold them. */
  readonly recent: EurekaInstance[];
  selfPreservation: boolean;
  /** Answer every request with this status (an outage, an auth wall) while set. */
  failWith: number | undefined;
  /** Next delta answers this hash instead of the true one (a drifted view). */
  lieHash: string | undefined;
  put(instance: EurekaInstance): void;
  drop(app: string, id: string): void;
  clearDelta(): void;
  close(): Promise<void>;
}

export async function startFakeEureka(options: { requireAuth?: string } = {}): Promise<FakeEureka> {
  const apps = new Map<string, Map<string, EurekaInstance>>();
  const log: string[] = [];
  const recent: EurekaInstance[] = [];
  const holder: { http?: LoopbackHttp } = {};
  const fake: FakeEureka = {
    get base() { return `${holder.http?.base ?? ''}/eureka`; },
    apps,
    log,
    recent,
    selfPreservation: false,
    failWith: undefined,
    lieHash: undefined,
    put(i) {
      const app = (i.app ?? '').toUpperCase();
      const m = apps.get(app) ?? new Map<string, EurekaInstance>();
      const prior = m.get(i.instanceId ?? '');
      m.set(i.instanceId ?? '', i);
      apps.set(app, m);
      recent.push({ ...i, actionType: prior === undefined ? 'ADDED' : 'MODIFIED' });
    },
    drop(app, id) {
      const m = apps.get(app.toUpperCase());
      const i = m?.get(id);
      if (m === undefined || i === undefined) return;
      m.delete(id);
      if (m.size === 0) apps.delete(app.toUpperCase());
      recent.push({ ...i, actionType: 'DELETED' });
    },
    clearDelta() { recent.length = 0; },
    close: () => holder.http?.close() ?? Promise.resolve(),
  };
  const all = (): EurekaInstance[] => [...apps.values()].flatMap((m) => [...m.values()]);
  const hash = (): string => reconcileHash(all().map((i) => i.status ?? 'UNKNOWN'));
  // Returns true (not void) so a handler can `return json(…)` in one line.
  const json = (res: ServerResponse, status: number, body?: unknown): boolean => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(body === undefined ? '' : JSON.stringify(body));
    return true;
  };
  const handler = async (req: IncomingMessage, res: ServerResponse): Promise<boolean> => {
    const url = new URL(req.url ?? '/', 'http://x');
    log.push(`${req.method ?? ''} ${url.pathname}${url.search}`);
    if (fake.failWith !== undefined) return json(res, fake.failWith, {});
    if (options.requireAuth !== undefined && req.headers.authorization !== options.requireAuth) return json(res, 401, {});
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks).toString('utf8');
    if (url.pathname === '/') {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end(`<tr><td>Lease expiration enabled</td>\n<td>${String(!fake.selfPreservation)}</td></tr><tr><td>Renews threshold</td><td>5</td></tr><tr><td>Renews (last min)</td><td>2</td></tr>`);
      return true;
    }
    const parts = url.pathname.replace(/^\/eureka\/apps/, '').split('/').filter((p) => p !== '').map(decodeURIComponent);
    const [app, id, sub] = parts;
    const m = app === undefined ? undefined : apps.get(app.toUpperCase());
    const inst = id === undefined ? undefined : m?.get(id);
    if (req.method === 'GET' && app === undefined) {
      return json(res, 200, { applications: { versions__delta: '1', apps__hashcode: hash(), application: [...apps].map(([name, mm]) => ({ name, instance: [...mm.values()] })) } });
    }
    if (req.method === 'GET' && app === 'delta') {
      const byApp = new Map<string, EurekaInstance[]>();
      for (const i of recent) byApp.set((i.app ?? '').toUpperCase(), [...(byApp.get((i.app ?? '').toUpperCase()) ?? []), i]);
      const h = fake.lieHash ?? hash();
      fake.lieHash = undefined;
      return json(res, 200, { applications: { versions__delta: '2', apps__hashcode: h, application: [...byApp].map(([name, list]) => ({ name, instance: list.length === 1 ? list[0] : list })) } });
    }
    if (req.method === 'GET' && id === undefined) return m === undefined ? json(res, 404) : json(res, 200, { application: { name: app?.toUpperCase(), instance: [...m.values()] } });
    if (req.method === 'POST' && id === undefined) {
      const i = (JSON.parse(body) as { instance: EurekaInstance }).instance;
      const prior = apps.get((app ?? '').toUpperCase())?.get(i.instanceId ?? '');
      // Registration rules: an override already held stays (putIfAbsent); DOWN/STARTING win.
      const over = statusOf(prior?.overriddenStatus) !== 'UNKNOWN' ? statusOf(prior?.overriddenStatus) : statusOf(i.overriddenStatus);
      const status = ['DOWN', 'STARTING'].includes(statusOf(i.status)) ? statusOf(i.status) : over !== 'UNKNOWN' ? over : prior !== undefined && ['UP', 'OUT_OF_SERVICE'].includes(statusOf(prior.status)) ? statusOf(prior.status) : statusOf(i.status);
      fake.put({ ...i, app: (app ?? '').toUpperCase(), status, overriddenStatus: over });
      return json(res, 204);
    }
    if (inst === undefined) return json(res, 404);
    if (req.method === 'PUT' && sub === undefined) return json(res, 200);
    if (req.method === 'DELETE' && sub === undefined) {
      fake.drop(app ?? '', id ?? '');
      return json(res, 200);
    }
    if (sub === 'status') {
      const value = statusOf(url.searchParams.get('value') ?? undefined);
      if (req.method === 'PUT') fake.put({ ...inst, status: value, overriddenStatus: value });
      else if (statusOf(inst.overriddenStatus) !== 'UNKNOWN') fake.put({ ...inst, status: value, overriddenStatus: 'UNKNOWN' });
      return json(res, 200);
    }
    return json(res, 405);
  };
  holder.http = await listenLoopback((req, res) => { void handler(req, res); });
  return fake;
}

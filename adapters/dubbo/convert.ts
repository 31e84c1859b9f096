import type { Endpoint, RegistryId, ServicePort, ServiceRef, ServiceSnapshot } from '../../bridge/model/index.ts';
import { DEFAULT_WEIGHT, MAX_WEIGHT, conditionsOf, endpointProblem, refProblem } from '../../bridge/model/index.ts';
import { DUBBO_META, carriesMarker } from './keys.ts';
import { javaUrlDecode, parseDubboUrl, type DubboUrl } from './url.ts';

export interface ImportSettings {
  readonly registry: RegistryId;
  readonly namespace: string;
  /** Native key → canonical name. */
  readonly names: Readonly<Record<string, string>>;
  readonly protocols: readonly string[];
  readonly maxUrlLength: number;
}

export interface Rejected {
  readonly nativeId: string;
  readonly reason: string;
  readonly ref?: ServiceRef;
}

export interface Converted {
  readonly snapshots: ServiceSnapshot[];
  readonly quarantined: Rejected[];
}

type Parsed<T> = { readonly kind: 'ok'; readonly value: T } | { readonly kind: 'skip' } | { readonly kind: 'bad'; readonly reason: string; readonly ref?: ServiceRef };

/** Dubbo's service key as Isthmus names it: `interface[:version[:group]]` (empty version kept when a group is set). */
export function serviceKey(iface: string, version = '', group = ''): string {
  if (group !== '') return `${iface}:${version}:${group}`;
  return version === '' ? iface : `${iface}:${version}`;
}

export function refOf(nativeKey: string, s: Pick<ImportSettings, 'namespace' | 'names'>): ServiceRef {
  // Own keys only: an interface named `constructor` must not pick up Object.prototype's.
  const mapped = Object.hasOwn(s.names, nativeKey) ? s.names[nativeKey] : undefined;
  return { namespace: s.namespace, name: typeof mapped === 'string' ? mapped : nativeKey };
}

/**
 * The ref of a native key, or why the model cannot carry it: a group such as `team/a`, an
 * interface directory decoding to a `/` or a control character, a name over 512 characters.
 * Such a service is quarantined, and the bad ref itself is never handed on.
 */
function checkedRef(nativeKey: string, s: Pick<ImportSettings, 'namespace' | 'names'>): ServiceRef | { readonly problem: string } {
  const ref = refOf(nativeKey, s);
  const problem = refProblem(ref);
  return problem === undefined ? ref : { problem };
}

function weightOf(raw: string | undefined): number | undefined {
  if (raw === undefined) return DEFAULT_WEIGHT;
  if (!/^\d+$/.test(raw)) return undefined;
  return Math.min(Number(raw), MAX_WEIGHT);
}

/** One provider znode under `<root>/<interface>/providers`, read from its name alone. */
export function parseProviderNode(dir: string, child: string, s: ImportSettings): Parsed<{ ref: ServiceRef; url: DubboUrl; endpoint: Endpoint }> {
  if (child.length > s.maxUrlLength * 3) return { kind: 'bad', reason: `provider URL is ${child.length} characters encoded (limit ${s.maxUrlLength} decoded)` };
  const iface = javaUrlDecode(dir);
  if (iface === undefined) return { kind: 'bad', reason: 'interface directory name is not valid URL encoding' };
  const text = javaUrlDecode(child);
  if (text === undefined) return { kind: 'bad', reason: 'znode name is not valid URL encoding' };
  if (text.length > s.maxUrlLength) return { kind: 'bad', reason: `provider URL is ${text.length} characters (limit ${s.maxUrlLength})` };
  const parsed = parseDubboUrl(text);
  if (!parsed.ok) return { kind: 'bad', reason: parsed.reason };
  const url = parsed.url;
  if (carriesMarker(url.params)) return { kind: 'skip' };
  if (!s.protocols.includes(url.protocol)) return { kind: 'bad', reason: `unknown protocol ${JSON.stringify(url.protocol.slice(0, 32))}` };
  const p = url.params;
  if (p['side'] !== undefined && p['side'] !== 'provider') return { kind: 'bad', reason: `side=${p['side'].slice(0, 32)} under providers` };
  const named = p['interface'] ?? url.path;
  if (named !== iface) return { kind: 'bad', reason: `interface ${JSON.stringify(named.slice(0, 128))} does not match its directory ${JSON.stringify(iface.slice(0, 128))}` };
  const checked = checkedRef(serviceKey(iface, p['version'], p['group']), s);
  if ('problem' in checked) return { kind: 'bad', reason: checked.problem };
  const ref = checked;
  const weight = weightOf(p['weight']);
  if (weight === undefined) return { kind: 'bad', ref, reason: `weight ${JSON.stringify(p['weight']?.slice(0, 32))} is not a number` };
  const disabled = p['enabled'] === 'false' || p['disabled'] === 'true';
  const metadata: Record<string, string> = { [DUBBO_META.interface]: iface };
  const copy: [string, string][] = [
    ['application', DUBBO_META.application],
    ['version', DUBBO_META.version],
    ['group', DUBBO_META.group],
    ['methods', DUBBO_META.methods],
    ['release', DUBBO_META.release],
  ];
  for (const [param, key] of copy) if (p[param] !== undefined) metadata[key] = p[param];
  const endpoint: Endpoint = {
    address: url.host,
    ports: { [url.protocol]: url.port },
    protocol: url.protocol,
    ...conditionsOf(disabled ? 'draining' : 'ready'),
    weight,
    metadata,
    origin: { registry: s.registry, nativeId: `${url.protocol}://${url.host}:${url.port}/${iface}` },
  };
  const problem = endpointProblem(endpoint);
  if (problem !== undefined) return { kind: 'bad', ref, reason: problem };
  return { kind: 'ok', value: { ref, url, endpoint } };
}

/**
 * Endpoints of one host are merged when their protocols differ (one process serving `dubbo` and
 * `tri` is one endpoint with two named ports, which is what a Kubernetes Service wants).
 */
function mergeByHost(endpoints: readonly Endpoint[]): Endpoint[] {
  const out: Endpoint[] = [];
  for (const ep of [...endpoints].sort((a, b) => a.origin.nativeId.localeCompare(b.origin.nativeId))) {
    const [name = ''] = Object.keys(ep.ports);
    const i = out.findIndex((o) => o.address === ep.address && o.ports[name] === undefined && o.metadata[DUBBO_META.application] === ep.metadata[DUBBO_META.application]);
    const host = out[i];
    if (host === undefined) {
      out.push(ep);
      continue;
    }
    const ready = host.ready && ep.ready;
    out[i] = { ...host, ports: { ...host.ports, ...ep.ports }, ...conditionsOf(ready ? 'ready' : 'draining') };
  }
  return out.sort((a, b) => a.address.localeCompare(b.address) || a.origin.nativeId.localeCompare(b.origin.nativeId));
}

function portsOf(endpoints: readonly Endpoint[]): ServicePort[] {
  const ports = new Map<string, ServicePort>();
  for (const ep of endpoints) {
    for (const [name, port] of Object.entries(ep.ports)) if (!ports.has(name)) ports.set(name, { name, port, protocol: name });
  }
  return [...ports.values()].sort((a, b) => a.name.localeCompare(b.name));
}

/** Every provider of one interface directory: snapshots per service key, plus what was refused. */
export function providerSnapshots(dir: string, children: readonly string[], s: ImportSettings, revision?: string): Converted {
  const byRef = new Map<string, { ref: ServiceRef; endpoints: Endpoint[] }>();
  const quarantined: Rejected[] = [];
  for (const child of children) {
    const r = parseProviderNode(dir, child, s);
    if (r.kind === 'skip') continue;
    if (r.kind === 'bad') {
      quarantined.push({ nativeId: `${dir}/providers/${child.slice(0, 512)}`, reason: r.reason, ...(r.ref === undefined ? {} : { ref: r.ref }) });
      continue;
    }
    const key = `${r.value.ref.namespace}/${r.value.ref.name}`;
    const entry = byRef.get(key) ?? { ref: r.value.ref, endpoints: [] };
    entry.endpoints.push(r.value.endpoint);
    byRef.set(key, entry);
  }
  const snapshots = [...byRef.values()].map(({ ref, endpoints }) => {
    const merged = mergeByHost(endpoints);
    return { ref, ports: portsOf(merged), endpoints: merged, metadata: {}, origin: s.registry, ...(revision === undefined ? {} : { revision }) };
  });
  return { snapshots, quarantined };
}

/** The Curator x-discovery document Dubbo 3 writes at `/services/<app>/<ip:port>`. */
export interface InstanceDocument {
  readonly name?: unknown;
  readonly id?: unknown;
  readonly address?: unknown;
  readonly port?: unknown;
  readonly payload?: { readonly metadata?: unknown } | null;
}

function stringRecord(v: unknown): Record<string, string> | undefined {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return undefined;
  const out: Record<string, string> = {};
  for (const [k, x] of Object.entries(v)) if (typeof x === 'string') out[k] = x;
  return out;
}

/** Ports from `dubbo.endpoints` (`[{port, protocol}]`); the instance port alone means `dubbo`. */
function instancePorts(meta: Readonly<Record<string, string>>, port: number, s: ImportSettings): Record<string, number> | string {
  const raw = meta['dubbo.endpoints'];
  if (raw === undefined) return { dubbo: port };
  let list: unknown;
  try {
    list = JSON.parse(raw);
  } catch {
    return 'dubbo.endpoints is not JSON';
  }
  if (!Array.isArray(list)) return 'dubbo.endpoints is not a JSON array';
  const ports: Record<string, number> = {};
  for (const item of list as unknown[]) {
    const e = item as { port?: unknown; protocol?: unknown } | null;
    if (typeof e?.protocol !== 'string' || typeof e.port !== 'number' || !Number.isInteger(e.port)) return 'dubbo.endpoints entry lacks protocol or port';
    if (!s.protocols.includes(e.protocol)) return `unknown protocol ${JSON.stringify(e.protocol.slice(0, 32))} in dubbo.endpoints`;
    ports[e.protocol] = e.port;
  }
  return Object.keys(ports).length === 0 ? { dubbo: port } : ports;
}

/** One application-level instance znode. */
export function parseInstanceNode(app: string, child: string, data: Buffer | undefined, s: ImportSettings): Parsed<Endpoint> {
  const checked = checkedRef(app, s);
  if ('problem' in checked) return { kind: 'bad', reason: checked.problem };
  const ref = checked;
  if (data === undefined || data.length === 0) return { kind: 'bad', ref, reason: 'instance node has no data' };
  let raw: unknown;
  try {
    raw = JSON.parse(data.toString('utf8'));
  } catch {
    return { kind: 'bad', ref, reason: 'instance data is not JSON' };
  }
  const doc = raw as InstanceDocument;
  if (raw === null || typeof raw !== 'object') return { kind: 'bad', ref, reason: 'instance data is not a JSON object' };
  const meta = stringRecord(doc.payload?.metadata) ?? {};
  if (carriesMarker(meta)) return { kind: 'skip' };
  if (typeof doc.address !== 'string' || doc.address === '') return { kind: 'bad', ref, reason: 'instance has no address' };
  if (typeof doc.port !== 'number' || !Number.isInteger(doc.port)) return { kind: 'bad', ref, reason: 'instance has no port' };
  const ports = instancePorts(meta, doc.port, s);
  if (typeof ports === 'string') return { kind: 'bad', ref, reason: ports };
  const metadata: Record<string, string> = { [DUBBO_META.application]: app };
  for (const key of [DUBBO_META.revision, DUBBO_META.storageType]) if (meta[key] !== undefined) metadata[key] = meta[key];
  const [first = 'dubbo'] = Object.keys(ports);
  const endpoint: Endpoint = {
    address: doc.address,
    ports,
    protocol: first,
    ...conditionsOf('ready'),
    weight: weightOf(meta['weight']) ?? DEFAULT_WEIGHT,
    metadata,
    origin: { registry: s.registry, nativeId: `${app}/${child}` },
  };
  const problem = endpointProblem(endpoint);
  return problem === undefined ? { kind: 'ok', value: endpoint } : { kind: 'bad', ref, reason: problem };
}

/** Every instance of one application; `interfaces` come from the mapping nodes that name it. */
export function instanceSnapshot(app: string, nodes: ReadonlyMap<string, Buffer | undefined>, interfaces: readonly string[], s: ImportSettings): Converted {
  const endpoints: Endpoint[] = [];
  const quarantined: Rejected[] = [];
  for (const [child, data] of [...nodes].sort(([a], [b]) => a.localeCompare(b))) {
    const r = parseInstanceNode(app, child, data, s);
    if (r.kind === 'ok') endpoints.push(r.value);
    else if (r.kind === 'bad') quarantined.push({ nativeId: `${app}/${child}`, reason: r.reason, ...(r.ref === undefined ? {} : { ref: r.ref }) });
  }
  if (endpoints.length === 0) return { snapshots: [], quarantined };
  const metadata = interfaces.length === 0 ? {} : { [DUBBO_META.interfaces]: [...interfaces].sort().join(',') };
  return { snapshots: [{ ref: refOf(app, s), ports: portsOf(endpoints), endpoints, metadata, origin: s.registry }], quarantined };
}

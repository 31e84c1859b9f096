import type { Endpoint, ServiceRef } from '../../bridge/model/index.ts';
import { DEFAULT_WEIGHT, MAX_WEIGHT, conditionsOf, parseRef } from '../../bridge/model/index.ts';
import { DUBBO_MARK } from './keys.ts';
import { javaUrlDecode, parseDubboUrl } from './url.ts';

/** A node this bridge wrote, as read back for observe, apply and remove. */
export interface OwnedNode {
  readonly path: string;
  readonly ref: ServiceRef;
  readonly endpoint: Endpoint;
  readonly data: Buffer;
  /** The Dubbo application the node advertises: where its MetadataInfo and mapping entries are. */
  readonly application: string | undefined;
}

function decoded(v: string | undefined): string | undefined {
  if (v === undefined) return undefined;
  try {
    return decodeURIComponent(v);
  } catch {
    return undefined;
  }
}

function fromMarkers(address: string, port: number, params: Readonly<Record<string, string>>, bridgeId: string): { ref: ServiceRef; endpoint: Endpoint } | undefined {
  if (decoded(params[DUBBO_MARK.managedBy]) !== bridgeId) return undefined;
  const ref = parseRef(decoded(params[DUBBO_MARK.ref]) ?? '');
  if (ref === undefined) return undefined;
  const weight = Number(params['weight'] ?? DEFAULT_WEIGHT);
  const endpoint: Endpoint = {
    address,
    ports: { [decoded(params[DUBBO_MARK.portName]) ?? 'dubbo']: port },
    ...conditionsOf('ready'),
    weight: Number.isFinite(weight) ? Math.min(Math.max(weight, 0), MAX_WEIGHT) : DEFAULT_WEIGHT,
    metadata: {},
    origin: { registry: decoded(params[DUBBO_MARK.origin]) ?? '', nativeId: decoded(params[DUBBO_MARK.originId]) ?? '' },
  };
  return { ref, endpoint };
}

/** A provider znode name, when `bridgeId` wrote it. */
export function ownedProvider(dirPath: string, child: string, bridgeId: string): OwnedNode | undefined {
  const text = javaUrlDecode(child);
  if (text === undefined || !text.includes(DUBBO_MARK.managedBy)) return undefined;
  const parsed = parseDubboUrl(text);
  if (!parsed.ok) return undefined;
  const found = fromMarkers(parsed.url.host, parsed.url.port, parsed.url.params, bridgeId);
  return found === undefined ? undefined : { path: `${dirPath}/${child}`, ...found, data: Buffer.alloc(0), application: parsed.url.params['application'] };
}

/** An application-level instance znode, when `bridgeId` wrote it. */
export function ownedInstance(path: string, data: Buffer | undefined, bridgeId: string): OwnedNode | undefined {
  if (data === undefined || !data.includes(DUBBO_MARK.managedBy)) return undefined;
  let doc: { name?: unknown; address?: unknown; port?: unknown; payload?: { metadata?: Record<string, unknown> } };
  try {
    doc = JSON.parse(data.toString('utf8')) as typeof doc;
  } catch {
    return undefined;
  }
  if (typeof doc.address !== 'string' || typeof doc.port !== 'number') return undefined;
  const params: Record<string, string> = {};
  for (const [k, v] of Object.entries(doc.payload?.metadata ?? {})) if (typeof v === 'string') params[k] = v;
  const found = fromMarkers(doc.address, doc.port, params, bridgeId);
  return found === undefined ? undefined : { path, ...found, data, application: typeof doc.name === 'string' ? doc.name : undefined };
}

/** True when a MetadataInfo document was published by `bridgeId` (its services carry our marker). */
export function ownedMetadata(data: Buffer | undefined, bridgeId: string): boolean {
  if (data === undefined || !data.includes(DUBBO_MARK.managedBy)) return false;
  let doc: { services?: Record<string, { params?: Record<string, unknown> }> };
  try {
    doc = JSON.parse(data.toString('utf8')) as typeof doc;
  } catch {
    return false;
  }
  const services = Object.values(doc.services ?? {});
  return services.length > 0 && services.every((svc) => svc.params?.[DUBBO_MARK.managedBy] === encodeURIComponent(bridgeId));
}

/** The MetadataInfo revision an instance document points at, if any. */
export function instanceRevision(data: Buffer | undefined): string | undefined {
  if (data === undefined) return undefined;
  try {
    const doc = JSON.parse(data.toString('utf8')) as { payload?: { metadata?: Record<string, unknown> } };
    const rev = doc.payload?.metadata?.['dubbo.metadata.revision'];
    return typeof rev === 'string' ? rev : undefined;
  } catch {
    return undefined;
  }
}

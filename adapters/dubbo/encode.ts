import { createHash } from 'node:crypto';
import type { Endpoint, ServiceRef, ServiceSnapshot } from '../../bridge/model/index.ts';
import { endpointProblem, liveness, refKey } from '../../bridge/model/index.ts';
import { DUBBO_ANNOTATION, DUBBO_MARK } from './keys.ts';
import { paramProblem, protocolProblem, segmentProblem } from './names.ts';
import { javaUrlEncode, percentEncode, urlNodeName, type DubboUrl } from './url.ts';

export interface ExportSettings {
  readonly bridgeId: string;
  readonly root: string;
  readonly servicesRoot: string;
  readonly defaultProtocol: string;
  readonly release: string;
  readonly persistent: boolean;
}

export interface ExportedInterface {
  readonly iface: string;
  readonly version: string;
  readonly group: string;
}

/** What a Service provides in Dubbo terms, from its annotations or else from its ref name. */
export interface ExportShape {
  readonly interfaces: readonly ExportedInterface[];
  readonly application: string;
  readonly protocol: string | undefined;
  readonly methods: string | undefined;
  /** Annotation values left out because ZooKeeper or a Dubbo URL cannot carry them (see names.ts). */
  readonly problems: readonly string[];
}

/** A znode the sink wants to exist with exactly this data. */
export interface WantedNode {
  readonly path: string;
  readonly data: Buffer;
}

export interface ExportPlan {
  /** Provider URL nodes and application-level instance nodes, one set per endpoint. */
  readonly nodes: WantedNode[];
  /** MetadataInfo for a Dubbo 3 consumer (remote storage), shared by every instance of one revision. */
  readonly metadata: WantedNode | undefined;
  /** `<root>/mapping/<interface>` nodes that must list `application`. */
  readonly mappings: string[];
  readonly application: string;
  /** What the desired snapshot asked for that is not exported, with why (logged by the sink). */
  readonly problems: readonly string[];
}

function splitKey(text: string): ExportedInterface {
  const [iface = '', version = '', group = ''] = text.trim().split(':').map((part) => part.trim());
  return { iface, version, group };
}

function interfaceProblem(i: ExportedInterface): string | undefined {
  return segmentProblem('interface', i.iface) ?? paramProblem(`version of ${i.iface}`, i.version) ?? paramProblem(`group of ${i.iface}`, i.group);
}

/**
 * Every annotation value is checked (names.ts): one that would split a znode path or inject a
 * URL parameter is left out and reported, never written. An unusable application exports
 * nothing at all, since every node carries it.
 */
export function exportShape(snapshot: Pick<ServiceSnapshot, 'ref' | 'metadata'>): ExportShape {
  const m = snapshot.metadata;
  const problems: string[] = [];
  const listed = m[DUBBO_ANNOTATION.interfaces];
  const version = m[DUBBO_ANNOTATION.version];
  const group = m[DUBBO_ANNOTATION.group];
  const application = m[DUBBO_ANNOTATION.application] ?? snapshot.ref.name;
  const appProblem = segmentProblem('application', application);
  if (appProblem !== undefined) problems.push(appProblem);
  const interfaces: ExportedInterface[] = [];
  for (const entry of listed === undefined ? [snapshot.ref.name] : listed.split(',')) {
    const key = splitKey(entry);
    if (key.iface === '' && listed !== undefined) continue;
    const i = { iface: key.iface, version: version ?? key.version, group: group ?? key.group };
    const problem = interfaceProblem(i);
    if (problem !== undefined) problems.push(problem);
    else if (appProblem === undefined && !interfaces.some((x) => x.iface === i.iface && x.version === i.version && x.group === i.group)) interfaces.push(i);
  }
  let protocol = m[DUBBO_ANNOTATION.protocol];
  const badProtocol = protocol === undefined ? undefined : protocolProblem(protocol);
  if (badProtocol !== undefined) {
    problems.push(badProtocol);
    protocol = undefined;
  }
  let methods = m[DUBBO_ANNOTATION.methods];
  const badMethods = methods === undefined ? undefined : paramProblem('methods', methods);
  if (badMethods !== undefined) {
    problems.push(badMethods);
    methods = undefined;
  }
  return { interfaces, application, protocol, methods, problems };
}

/** The protocol and port an endpoint is exported on: the annotated protocol, the endpoint's, or the default. */
export function exportPort(ep: Endpoint, shape: ExportShape, s: ExportSettings): { protocol: string; portName: string; port: number } | undefined {
  const protocol = shape.protocol ?? (ep.protocol === 'dubbo' || ep.protocol === 'tri' ? ep.protocol : s.defaultProtocol);
  const named = ep.ports[protocol];
  if (named !== undefined) return { protocol, portName: protocol, port: named };
  const [first] = Object.entries(ep.ports).sort(([a], [b]) => a.localeCompare(b));
  return first === undefined ? undefined : { protocol, portName: first[0], port: first[1] };
}

function markers(ref: ServiceRef, ep: Endpoint, portName: string, s: ExportSettings): Record<string, string> {
  // Values are percent-encoded: Dubbo does not decode parameter values, and an origin id may hold `&` or `=`.
  return {
    [DUBBO_MARK.managedBy]: percentEncode(s.bridgeId),
    [DUBBO_MARK.origin]: percentEncode(ep.origin.registry),
    [DUBBO_MARK.originId]: percentEncode(ep.origin.nativeId),
    [DUBBO_MARK.ref]: percentEncode(refKey(ref)),
    [DUBBO_MARK.portName]: percentEncode(portName),
  };
}

function serviceParams(i: ExportedInterface, shape: ExportShape, s: ExportSettings): Record<string, string> {
  return {
    anyhost: 'false',
    application: shape.application,
    deprecated: 'false',
    dubbo: '2.0.2',
    dynamic: String(!s.persistent),
    generic: 'false',
    interface: i.iface,
    release: s.release,
    'service-name-mapping': 'true',
    side: 'provider',
    ...(i.version === '' ? {} : { version: i.version }),
    ...(i.group === '' ? {} : { group: i.group }),
    ...(shape.methods === undefined ? {} : { methods: shape.methods }),
  };
}

/**
 * `session` (ephemeral mode) goes into the URL so a new session's node has a new name: it is
 * created before the old session's node is deleted, and interface-level consumers never see the
 * endpoint missing during a bridge restart or failover (a restarted Dubbo provider's URL changes
 * too, through its `timestamp`).
 */
export function providerUrl(ref: ServiceRef, ep: Endpoint, i: ExportedInterface, shape: ExportShape, s: ExportSettings, session = ''): DubboUrl | undefined {
  const at = exportPort(ep, shape, s);
  if (at === undefined) return undefined;
  const weight = Math.round(ep.weight);
  return {
    protocol: at.protocol,
    host: ep.address,
    port: at.port,
    path: i.iface,
    params: {
      ...serviceParams(i, shape, s),
      // Always written, the default too: Dubbo's RandomLoadBalance weighs only when the first
      // invoker's URL carries `weight`, so an omitted 100 can turn a split into a uniform pick.
      weight: String(weight),
      ...markers(ref, ep, at.portName, s),
      ...(s.persistent || session === '' ? {} : { [DUBBO_MARK.session]: session }),
    },
  };
}

/** Dubbo's key of a service inside MetadataInfo: `[group/]interface[:version]:protocol`. */
function matchKey(i: ExportedInterface, protocol: string): string {
  return `${i.group === '' ? '' : `${i.group}/`}${i.iface}${i.version === '' ? '' : `:${i.version}`}:${protocol}`;
}

/**
 * Our bridge id inside MetadataInfo: it proves at cleanup that the node is ours, and it makes the
 * content-addressed revision differ per bridge, so two bridges exporting the same application
 * never share (and never delete each other's) metadata node.
 */
function ownerParam(s: ExportSettings): Record<string, string> {
  return { [DUBBO_MARK.managedBy]: percentEncode(s.bridgeId) };
}

/** Data of every directory znode the sink creates, so cleanup deletes only directories it created. */
export function dirMark(s: Pick<ExportSettings, 'bridgeId'>): Buffer {
  return Buffer.from(`${DUBBO_MARK.managedBy}=${percentEncode(s.bridgeId)}`);
}

/** The MetadataInfo document and its revision; equal inputs give equal bytes. */
export function metadataInfo(shape: ExportShape, protocol: string, port: number, s: ExportSettings): { revision: string; json: string } {
  const services: Record<string, unknown> = {};
  for (const i of [...shape.interfaces].sort((a, b) => matchKey(a, protocol).localeCompare(matchKey(b, protocol)))) {
    services[matchKey(i, protocol)] = { name: i.iface, group: i.group === '' ? undefined : i.group, version: i.version === '' ? undefined : i.version, protocol, port, path: i.iface, params: { ...serviceParams(i, shape, s), ...ownerParam(s) } };
  }
  const revision = createHash('md5').update(JSON.stringify({ app: shape.application, services })).digest('hex');
  return { revision, json: JSON.stringify({ app: shape.application, revision, services }) };
}

/** The Curator x-discovery document a Dubbo 3 provider writes; registrationTimeUTC fixed so equal inputs give equal bytes. */
export function instanceDocument(ref: ServiceRef, ep: Endpoint, shape: ExportShape, revision: string, s: ExportSettings): { id: string; json: string } | undefined {
  const at = exportPort(ep, shape, s);
  if (at === undefined) return undefined;
  const id = `${ep.address}:${at.port}`;
  const metadata: Record<string, string> = {
    'dubbo.endpoints': JSON.stringify([{ port: at.port, protocol: at.protocol }]),
    'dubbo.metadata.revision': revision,
    'dubbo.metadata.storage-type': 'remote',
    'meta-v': '1.0.0',
    weight: String(Math.round(ep.weight)),
    ...markers(ref, ep, at.portName, s),
  };
  const doc = {
    name: shape.application,
    id,
    address: ep.address,
    port: at.port,
    sslPort: null,
    payload: { '@class': 'org.apache.dubbo.registry.zookeeper.ZookeeperInstance', id, name: shape.application, metadata },
    registrationTimeUTC: 0,
    serviceType: s.persistent ? 'STATIC' : 'DYNAMIC',
    uriSpec: null,
  };
  return { id, json: JSON.stringify(doc) };
}

export function providersDir(s: Pick<ExportSettings, 'root'>, iface: string): string {
  return `${s.root}/${javaUrlEncode(iface)}/providers`;
}

/**
 * Every znode `desired` needs: per exported endpoint one provider URL per interface and one
 * application-level instance. Only ready endpoints are written: a Dubbo provider URL carries no
 * health, so draining and down endpoints are withdrawn, which is how Dubbo consumers stop
 * calling an instance (DESIGN §5). An endpoint the model refuses is never exported (the engine
 * quarantines it before; this keeps a hostile address out of a znode path regardless).
 */
export function planExport(desired: ServiceSnapshot, s: ExportSettings, session = ''): ExportPlan {
  const shape = exportShape(desired);
  const problems = [...shape.problems];
  const live: Endpoint[] = [];
  for (const ep of desired.endpoints) {
    const problem = endpointProblem(ep);
    if (problem !== undefined) problems.push(`endpoint ${ep.origin.nativeId.slice(0, 80)}: ${problem}`);
    else if (liveness(ep) === 'ready') live.push(ep);
  }
  const nodes: WantedNode[] = [];
  const first = live[0] === undefined ? undefined : exportPort(live[0], shape, s);
  const meta = first === undefined || shape.interfaces.length === 0 ? undefined : metadataInfo(shape, first.protocol, first.port, s);
  for (const ep of live) {
    for (const i of shape.interfaces) {
      const url = providerUrl(desired.ref, ep, i, shape, s, session);
      if (url !== undefined) nodes.push({ path: `${providersDir(s, i.iface)}/${urlNodeName(url)}`, data: Buffer.alloc(0) });
    }
    const doc = meta === undefined ? undefined : instanceDocument(desired.ref, ep, shape, meta.revision, s);
    if (doc !== undefined) nodes.push({ path: `${s.servicesRoot}/${shape.application}/${doc.id}`, data: Buffer.from(doc.json) });
  }
  return {
    nodes,
    metadata: meta === undefined ? undefined : { path: `${s.root}/metadata/${shape.application}/${meta.revision}`, data: Buffer.from(meta.json) },
    mappings: live.length === 0 ? [] : shape.interfaces.map((i) => `${s.root}/mapping/${i.iface}`),
    application: shape.application,
    problems,
  };
}

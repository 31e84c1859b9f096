import { MARKER } from '../../bridge/model/index.ts';

/** URL parameters and instance metadata keys Isthmus writes into Dubbo records (DESIGN §6). */
export const DUBBO_MARK = {
  managedBy: `isthmus.${MARKER.managedBy}`,
  origin: `isthmus.${MARKER.origin}`,
  originId: `isthmus.${MARKER.originId}`,
  /** The canonical ref `namespace/name`, so the sink finds what it owns without a naming table. */
  ref: 'isthmus.ref',
  /** The model port name, so observe returns ports exactly as applied. */
  portName: 'isthmus.port-name',
  /** ZooKeeper session that owns an ephemeral provider node (ephemeral mode only). */
  session: 'isthmus.session',
} as const;

/** True for any record another Isthmus bridge (or this one) wrote: sources skip them. */
export function carriesMarker(params: Readonly<Record<string, string>>): boolean {
  return Object.keys(params).some((k) => k.startsWith('isthmus.'));
}

/**
 * Service annotations (snapshot metadata) that say what a Kubernetes Service provides in Dubbo
 * terms. Without them the ref name is read as `interface[:version[:group]]` and the application
 * is the ref name.
 */
export const DUBBO_ANNOTATION = {
  interfaces: 'isthmus.dev/dubbo-interfaces',
  version: 'isthmus.dev/dubbo-version',
  group: 'isthmus.dev/dubbo-group',
  protocol: 'isthmus.dev/dubbo-protocol',
  application: 'isthmus.dev/dubbo-application',
  methods: 'isthmus.dev/dubbo-methods',
} as const;

/** Endpoint metadata keys the source fills from Dubbo URLs and instances. */
export const DUBBO_META = {
  application: 'dubbo.application',
  interface: 'dubbo.interface',
  version: 'dubbo.version',
  group: 'dubbo.group',
  methods: 'dubbo.methods',
  release: 'dubbo.release',
  revision: 'dubbo.metadata.revision',
  storageType: 'dubbo.metadata.storage-type',
  interfaces: 'dubbo.interfaces',
} as const;

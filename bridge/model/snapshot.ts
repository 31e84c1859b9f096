import type { Endpoint } from './endpoint.ts';
import type { RegistryId, ServiceRef } from './service-ref.ts';

export interface ServicePort {
  readonly name: string;
  readonly port: number;
  readonly protocol?: string;
}

/**
 * The full state of one service in one registry. Snapshots cross every boundary whole, never as
 * deltas, and an existing service with no endpoints is an empty snapshot, not an absent one.
 */
export interface ServiceSnapshot {
  readonly ref: ServiceRef;
  readonly ports: readonly ServicePort[];
  readonly endpoints: readonly Endpoint[];
  readonly metadata: Readonly<Record<string, string>>;
  /** The registry this snapshot was read from. */
  readonly origin: RegistryId;
  /** Native change marker (resourceVersion, modify index…) for status output; never compared. */
  readonly revision?: string;
}

export function emptySnapshot(ref: ServiceRef, origin: RegistryId): ServiceSnapshot {
  return { ref, ports: [], endpoints: [], metadata: {}, origin };
}

import { createHash } from 'node:crypto';
import type { RegistryId, ServiceRef } from './service-ref.ts';

/**
 * What every record Isthmus writes carries (DESIGN §4). Each adapter spells the keys in its
 * registry's own convention (label, Meta key, URL parameter); the meaning is the same everywhere.
 */
export interface Ownership {
  /** The bridge id from config: sinks touch only records whose managedBy equals their own. */
  readonly managedBy: string;
  /** The registry the endpoint came from. */
  readonly origin: RegistryId;
  /** The origin registry's own id for the endpoint. */
  readonly originId: string;
}

/** Marker words shared by all adapters; each adds its own prefix and separator. */
export const MARKER = {
  managedBy: 'managed-by',
  origin: 'origin',
  originId: 'origin-id',
} as const;

/**
 * Deterministic instance id: the same endpoint always gets the same id, so a repeated apply or a
 * restart cannot duplicate records, and a record whose markers a registry stripped is still
 * recognised by its id. 16 hex chars (64 bits) keep ids short enough for every registry.
 */
export function instanceId(origin: RegistryId, ref: ServiceRef, address: string, port: number): string {
  const h = createHash('sha256');
  h.update(`${origin}\u0000${ref.namespace}\u0000${ref.name}\u0000${address}\u0000${port}`);
  return h.digest('hex').slice(0, 16);
}

import { isIP } from 'node:net';
import { MAX_WEIGHT, type Endpoint } from './endpoint.ts';

/** Registries reject large metadata (Consul: 64 keys, 512-byte values); keep well inside. */
export const METADATA_LIMITS = { keys: 64, keyLength: 128, valueLength: 512 } as const;

/**
 * Why an endpoint cannot be synced, or undefined when it can. Pure: sources call it while
 * converting and the engine calls it again before writing, so a bad record is quarantined with
 * this reason while everything else keeps flowing (DESIGN §9 "Bad input").
 */
export function endpointProblem(ep: Endpoint): string | undefined {
  if (isIP(ep.address) === 0) return `address ${JSON.stringify(ep.address)} is not an IP address`;
  const ports = Object.entries(ep.ports);
  if (ports.length === 0) return 'endpoint has no port';
  for (const [name, port] of ports) {
    if (!Number.isInteger(port) || port < 1 || port > 65535) return `port ${name}=${port} is outside 1-65535`;
  }
  if (!Number.isFinite(ep.weight) || ep.weight < 0 || ep.weight > MAX_WEIGHT) {
    return `weight ${ep.weight} is outside 0-${MAX_WEIGHT}`;
  }
  const meta = Object.entries(ep.metadata);
  if (meta.length > METADATA_LIMITS.keys) return `metadata has ${meta.length} keys (limit ${METADATA_LIMITS.keys})`;
  for (const [k, v] of meta) {
    if (k.length > METADATA_LIMITS.keyLength) return `metadata key ${k.slice(0, 32)}… is longer than ${METADATA_LIMITS.keyLength}`;
    if (v.length > METADATA_LIMITS.valueLength) return `metadata ${k} is ${v.length} characters (limit ${METADATA_LIMITS.valueLength})`;
  }
  return undefined;
}

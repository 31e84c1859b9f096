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
  // Node's isIP accepts a zone (fe80::1%eth0), but a zone names an interface of one host: on
  // any other machine the address is meaningless or points somewhere else.
  if (ep.address.includes('%')) return `address ${JSON.stringify(ep.address)} is scoped to a network interface (IPv6 zone), which only means something on one host`;
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

/** Longest namespace or service name the model carries (the resolver's HTTP API caps names at 512 too). */
export const MAX_NAME_LENGTH = 512;

/**
 * Why a service identity cannot be carried, or undefined when it can. `/` separates namespace
 * and name in every key, URL and log line, so neither part may hold one; control characters
 * and empty or oversized parts are refused too. Sources call it while converting and quarantine
 * the service with this reason; nothing downstream ever sees such a ref.
 */
export function refProblem(ref: { readonly namespace: string; readonly name: string }): string | undefined {
  for (const [part, value] of [['namespace', ref.namespace], ['name', ref.name]] as const) {
    if (value.length === 0) return `service ${part} is empty`;
    if (value.length > MAX_NAME_LENGTH) return `service ${part} is ${value.length} characters (limit ${MAX_NAME_LENGTH})`;
    if (value.includes('/')) return `service ${part} ${JSON.stringify(value.slice(0, 80))} contains "/", which the model reserves as the namespace/name separator`;
    // eslint-disable-next-line no-control-regex
    if (/[\u0000-\u001f\u007f]/.test(value)) return `service ${part} ${JSON.stringify(value.slice(0, 80))} contains a control character`;
  }
  return undefined;
}

// Virtual IPs for VM-only ServiceEntries with TCP ports. Without one, every Dubbo provider's
// ServiceEntry listens on 0.0.0.0:20880 in each sidecar and all but one are shadowed (Istio's
// analyzer IST0134). The address is derived from the service, so a restart picks the same one.
import { createHash } from 'node:crypto';
import { isIPv4 } from 'node:net';

export interface Cidr {
  readonly base: number;
  readonly size: number;
}

/** An IPv4 CIDR, or a problem; pure. */
export function parseCidr(text: string): Cidr | { problem: string } {
  const m = /^(\d+\.\d+\.\d+\.\d+)\/(\d{1,2})$/.exec(text.trim());
  if (m === null || !isIPv4(m[1] ?? '')) return { problem: `${JSON.stringify(text)} is not an IPv4 CIDR like 240.240.0.0/16` };
  const bits = Number(m[2]);
  if (bits < 8 || bits > 30) return { problem: `${text}: prefix must be /8 to /30 (room for more than one address)` };
  const size = 2 ** (32 - bits);
  const base = toNumber(m[1] ?? '') - (toNumber(m[1] ?? '') % size);
  return { base, size };
}

function toNumber(ip: string): number {
  return ip.split('.').reduce((n, octet) => n * 256 + Number(octet), 0);
}

function toIp(n: number): string {
  return [24, 16, 8, 0].map((shift) => Math.floor(n / 2 ** shift) % 256).join('.');
}

export function inCidr(ip: string, cidr: Cidr): boolean {
  if (!isIPv4(ip)) return false;
  const n = toNumber(ip);
  return n > cidr.base && n < cidr.base + cidr.size - 1;
}

/**
 * The VIP for `key` (`namespace/name`): a hash-chosen host address of the CIDR (never the network
 * or broadcast address), moved to the next free one while another service of ours holds it.
 * Returns undefined when every address is taken.
 */
export function allocateVip(cidr: Cidr, key: string, used: ReadonlySet<string>): string | undefined {
  const hosts = cidr.size - 2;
  const start = createHash('sha256').update(key).digest().readUInt32BE(0) % hosts;
  for (let i = 0; i < hosts; i++) {
    const ip = toIp(cidr.base + 1 + ((start + i) % hosts));
    if (!used.has(ip)) return ip;
  }
  return undefined;
}

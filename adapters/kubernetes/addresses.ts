import { isIP } from 'node:net';

/**
 * Why the API server would refuse `address` as an EndpointSlice address, or undefined. Pure.
 *
 * One refused address fails the whole slice write (422, terminal), which would stall every
 * endpoint of the service; so the slice plan leaves such an endpoint out and reports it instead.
 * The rules are the API server's (measured against kube-apiserver 1.36): an IP in canonical
 * form, not IPv4-mapped, not unspecified, loopback, link-local or link-local multicast. A VM
 * registered as 127.0.0.1 on a developer machine is the common case.
 */
export function sliceAddressProblem(address: string): string | undefined {
  const family = isIP(address);
  if (family === 0) return `address ${JSON.stringify(address.slice(0, 80))} is not an IP`;
  if (family === 4) return special4(address.split('.').map(Number), address);
  const groups = parseIPv6(address);
  if (groups === undefined) return `address ${JSON.stringify(address)} carries a zone, which a slice cannot hold`;
  if (groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff) return `address ${address} is IPv4-mapped IPv6, which a slice cannot hold`;
  const canonical = formatIPv6(groups);
  if (canonical !== address) return `address ${address} is not in canonical form (${canonical})`;
  if (groups.every((g) => g === 0)) return `address ${address} is unspecified`;
  if (groups.slice(0, 7).every((g) => g === 0) && groups[7] === 1) return `address ${address} is loopback`;
  const first = groups[0] ?? 0;
  if ((first & 0xffc0) === 0xfe80) return `address ${address} is link-local`;
  if ((first & 0xff0f) === 0xff02) return `address ${address} is link-local multicast`;
  return undefined;
}

function special4(octets: readonly number[], address: string): string | undefined {
  const [a = 0, b = 0, c = 0] = octets;
  if (octets.every((o) => o === 0)) return `address ${address} is unspecified`;
  if (a === 127) return `address ${address} is loopback`;
  if (a === 169 && b === 254) return `address ${address} is link-local`;
  if (a === 224 && b === 0 && c === 0) return `address ${address} is link-local multicast`;
  return undefined;
}

/** The eight 16-bit groups of a valid IPv6 address (isIP said so), or undefined with a zone. */
function parseIPv6(address: string): number[] | undefined {
  if (address.includes('%')) return undefined;
  const toGroups = (part: string): number[] => {
    if (part === '') return [];
    return part.split(':').flatMap((g) => {
      if (!g.includes('.')) return [parseInt(g, 16)];
      const [a = 0, b = 0, c = 0, d = 0] = g.split('.').map(Number);
      return [(a << 8) | b, (c << 8) | d];
    });
  };
  const gap = address.indexOf('::');
  if (gap < 0) return toGroups(address);
  const head = toGroups(address.slice(0, gap));
  const tail = toGroups(address.slice(gap + 2));
  return [...head, ...new Array<number>(8 - head.length - tail.length).fill(0), ...tail];
}

/** RFC 5952 text form (what the API server calls canonical): lowercase, the first longest zero run of 2+ groups as `::`. */
export function formatIPv6(groups: readonly number[]): string {
  let start = -1;
  let length = 0;
  for (let i = 0; i < groups.length; i++) {
    let j = i;
    while (j < groups.length && groups[j] === 0) j++;
    if (j - i >= 2 && j - i > length) {
      start = i;
      length = j - i;
    }
  }
  const hex = groups.map((g) => g.toString(16));
  if (start < 0) return hex.join(':');
  return `${hex.slice(0, start).join(':')}::${hex.slice(start + length).join(':')}`;
}

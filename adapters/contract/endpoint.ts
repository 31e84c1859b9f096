import type { Endpoint } from '../../bridge/model/index.ts';

/**
 * The plainest endpoint a sink must store, for a harness's `endpoint`: ready, one port, the
 * number spread over the address's last two octets so hundreds stay distinct, and the number
 * again in metadata and the native id so a round-trip mix-up shows.
 */
export function contractEndpoint(i: number, origin: string, ports: Readonly<Record<string, number>> = { http: 8080 }): Endpoint {
  return {
    address: `10.9.${Math.floor(i / 250)}.${(i % 250) + 1}`,
    ports,
    ready: true,
    serving: true,
    terminating: false,
    weight: 100,
    metadata: { idx: String(i) },
    origin: { registry: origin, nativeId: `i-${i}` },
  };
}

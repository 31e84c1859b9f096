// Loopback port plan. Every port can be moved with ISTHMUS_PORT_<KEY> (e.g.
// ISTHMUS_PORT_CONSUL_HTTP=18500) so a developer's own servers need not collide with ours.

export const LOOPBACK = '127.0.0.1';

const defaults = {
  ETCD_CLIENT: 2379,
  ETCD_PEER: 2380,
  APISERVER: 6443,
  CONSUL_HTTP: 8500,
  CONSUL_GRPC: 8502,
  CONSUL_GRPC_TLS: 8503,
  CONSUL_DNS: 8600,
  CONSUL_SERVER: 8300,
  CONSUL_SERF_LAN: 8301,
  CONSUL_SERF_WAN: 8302,
  // Nacos derives gRPC (+1000, +1001) and JRaft (-1000) from this one; they cannot be set apart.
  NACOS_HTTP: 8848,
  ZOOKEEPER: 2181,
  EUREKA_HTTP: 8761,
} as const;

export type PortKey = keyof typeof defaults;

export function port(key: PortKey): number {
  const raw = process.env[`ISTHMUS_PORT_${key}`];
  if (raw === undefined || raw === '') return defaults[key];
  const value = Number(raw);
  if (!Number.isInteger(value) || value <= 0 || value > 65_535) {
    throw new Error(`ISTHMUS_PORT_${key}=${raw} is not a valid TCP port`);
  }
  return value;
}

import { readFileSync } from 'node:fs';
import { BridgeError } from '../../bridge/errors/index.ts';
import type { AdapterContext, AdapterKind } from '../../bridge/ports/index.ts';
import { TokenSource, type Credentials } from './auth.ts';
import { NacosNamingClient } from './client.ts';
import { NacosConnection } from './connection.ts';
import { DisabledLookup } from './disabled.ts';
import { NacosOptions } from './options.ts';
import { NacosSink } from './sink.ts';
import { NacosSource } from './source.ts';

export { NacosConnection } from './connection.ts';
export { NacosNamingClient } from './client.ts';
export { NacosSource } from './source.ts';
export { NacosSink } from './sink.ts';
export { NacosOptions } from './options.ts';
export { TokenSource } from './auth.ts';
export { M as NACOS_MARKERS } from './encode.ts';

/** The password from a file or an environment variable; never logged, never in a message. */
export function readCredentials(o: NacosOptions, env: NodeJS.ProcessEnv = process.env): Credentials | undefined {
  const auth = o.auth;
  if (auth === undefined) return undefined;
  if (auth.passwordFile !== undefined) {
    try {
      return { username: auth.username, password: readFileSync(auth.passwordFile, 'utf8').trim() };
    } catch (err) {
      throw new BridgeError('ISTHMUS_CONFIG_UNREADABLE', `nacos auth.passwordFile ${auth.passwordFile} cannot be read: ${(err as Error).message}`, { terminal: true, cause: err });
    }
  }
  if (auth.passwordEnv !== undefined) {
    const value = env[auth.passwordEnv];
    if (value === undefined || value === '') throw new BridgeError('ISTHMUS_CONFIG_INVALID', `nacos auth.passwordEnv names ${auth.passwordEnv}, which is not set`, { terminal: true });
    return { username: auth.username, password: value };
  }
  throw new BridgeError('ISTHMUS_CONFIG_INVALID', 'nacos auth needs passwordFile or passwordEnv', { terminal: true });
}

function splitHostPort(server: string): { host: string; port: number } {
  const colon = server.lastIndexOf(':');
  const host = colon > 0 ? server.slice(0, colon) : server;
  const port = colon > 0 ? Number(server.slice(colon + 1)) : 8848;
  if (!Number.isInteger(port) || port <= 0) throw new BridgeError('ISTHMUS_CONFIG_INVALID', `nacos server ${JSON.stringify(server)} is not host:port`, { terminal: true });
  return { host, port };
}

/** HTTP base of the first server (login and the admin list of disabled instances). */
function httpBase(o: NacosOptions): string {
  const first = o.servers.map(splitHostPort)[0] ?? { host: '127.0.0.1', port: 8848 };
  return `http://${first.host}:${first.port}${o.contextPath}`;
}

function tokenSource(o: NacosOptions, ctx: AdapterContext, credentials: Credentials | undefined): TokenSource | undefined {
  return credentials === undefined ? undefined : new TokenSource({ baseUrl: httpBase(o), credentials, registry: ctx.registryId, requestTimeoutMs: o.requestTimeoutMs });
}

/** One gRPC connection of this registry (source and sink each own one, as Nacos' own SDK does per NamingService). */
export function nacosConnection(o: NacosOptions, ctx: AdapterContext, credentials = readCredentials(o)): NacosConnection {
  const servers = o.servers.map(splitHostPort);
  const tokens = tokenSource(o, ctx, credentials);
  return new NacosConnection({
    targets: servers.map((s) => `${s.host}:${s.port + o.grpcPortOffset}`),
    registry: ctx.registryId,
    ...(tokens === undefined ? {} : { tokens }),
    requestTimeoutMs: o.requestTimeoutMs,
    keepaliveMs: o.keepaliveMs,
    maxBackoffMs: o.maxBackoffMs,
    module: 'naming',
    logger: ctx.logger,
  });
}

export function createNacosSource(o: NacosOptions, ctx: AdapterContext, conn = nacosConnection(o, ctx), credentials = readCredentials(o)): NacosSource {
  const tokens = tokenSource(o, ctx, credentials);
  const disabled = new DisabledLookup({
    baseUrl: httpBase(o),
    namespace: o.nacosNamespace,
    registry: ctx.registryId,
    requestTimeoutMs: o.requestTimeoutMs,
    logger: ctx.logger,
    ...(tokens === undefined ? {} : { tokens }),
  });
  return new NacosSource(ctx.registryId, new NacosNamingClient(conn, o.nacosNamespace), {
    disabled,
    settings: {
      registry: ctx.registryId,
      namespace: o.namespace,
      ...(o.namespaceMetaKey === undefined ? {} : { namespaceMetaKey: o.namespaceMetaKey }),
      defaultGroup: o.group,
      groups: o.groups,
      services: o.services,
      clusters: o.clusters,
      portName: o.portName,
      zoneMetaKey: o.zoneMetaKey,
      metadata: o.metadata,
    },
    pageSize: o.pageSize,
    relistIntervalMs: o.relistIntervalMs,
    logger: ctx.logger,
  });
}

export function createNacosSink(o: NacosOptions, ctx: AdapterContext, conn = nacosConnection(o, ctx)): NacosSink {
  return new NacosSink(ctx.registryId, new NacosNamingClient(conn, o.nacosNamespace), {
    settings: { bridgeId: ctx.bridgeId, portName: o.portName, cluster: o.cluster, namespace: o.namespace },
    defaultGroup: o.group,
    mode: o.ephemeral,
    pageSize: o.pageSize,
    logger: ctx.logger,
  });
}

/** `kind: nacos`: Nacos 2.x/3.x naming over its SDK gRPC protocol, both a source (subscribe + push) and a sink (batch register). */
export const nacosAdapter: AdapterKind = {
  kind: 'nacos',
  optionsSchema: NacosOptions,
  canSource: true,
  canSink: true,
  create(options, ctx) {
    const o = options as NacosOptions;
    const credentials = readCredentials(o);
    const source = createNacosSource(o, ctx, nacosConnection(o, ctx, credentials), credentials);
    const sink = createNacosSink(o, ctx, nacosConnection(o, ctx, credentials));
    // Connections end with the start() signal; closing them early would drop our ephemeral
    // instances before the process exits, which a graceful restart must not do sooner than needed.
    return { source, sink, close: () => Promise.resolve() };
  },
};

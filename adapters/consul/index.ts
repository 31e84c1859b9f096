import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { BridgeError } from '../../bridge/errors/index.ts';
import type { AdapterContext, AdapterKind } from '../../bridge/ports/index.ts';
import { ConsulClient, type ConsulClientOptions } from './client.ts';
import { ConsulLeaderElector } from './leader.ts';
import { ConsulOptions } from './options.ts';
import { ConsulSink } from './sink.ts';
import { ConsulSource } from './source.ts';

export { ConsulClient, type ConsulClientOptions } from './client.ts';
export { ConsulSource, type ConsulSourceOptions } from './source.ts';
export { ConsulSink, type ConsulSinkOptions } from './sink.ts';
export { ConsulOptions, ConsulLeaderOptions } from './options.ts';
export { ConsulLeaderElector, lockKey, type ConsulLockApi, type ConsulLockSettings } from './leader.ts';
export { importSettings, exportSettings };

/** The ACL token from a file or an environment variable; never logged, never in a URL. */
export function readToken(o: Pick<ConsulOptions, 'tokenFile' | 'tokenEnv'>, env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (o.tokenFile !== undefined) {
    try {
      return readFileSync(o.tokenFile, 'utf8').trim();
    } catch (err) {
      throw new BridgeError('ISTHMUS_CONFIG_UNREADABLE', `consul tokenFile ${o.tokenFile} cannot be read: ${(err as Error).message}`, { terminal: true, cause: err });
    }
  }
  if (o.tokenEnv !== undefined) {
    const value = env[o.tokenEnv];
    if (value === undefined || value === '') {
      throw new BridgeError('ISTHMUS_CONFIG_INVALID', `consul tokenEnv names ${o.tokenEnv}, which is not set`, { terminal: true });
    }
    return value.trim();
  }
  return undefined;
}

function importSettings(o: ConsulOptions, registry: string): ConstructorParameters<typeof ConsulSource>[2]['settings'] {
  return {
    registry,
    namespace: o.namespace,
    ...(o.namespaceMetaKey === undefined ? {} : { namespaceMetaKey: o.namespaceMetaKey }),
    portName: o.portName,
    zoneMetaKey: o.zoneMetaKey,
    warningAs: o.warningAs,
    importConsulK8s: o.importConsulK8s,
    services: o.services,
    tags: o.tags,
    meta: o.meta,
  };
}

function exportSettings(o: ConsulOptions, bridgeId: string): ConstructorParameters<typeof ConsulSink>[2]['settings'] {
  return {
    bridgeId,
    node: o.nodeName ?? `isthmus-${bridgeId}`,
    portName: o.portName,
    zoneMetaKey: o.zoneMetaKey,
    drainingStatus: o.drainingStatus,
    extraTags: o.extraTags,
    namespace: o.namespace,
  };
}

function clientOptions(o: ConsulOptions, ctx: AdapterContext, token: string | undefined): ConsulClientOptions {
  return {
    address: o.address,
    registry: ctx.registryId,
    requestTimeoutMs: o.requestTimeoutMs,
    ...(token === undefined ? {} : { token }),
    ...(o.datacenter === undefined ? {} : { datacenter: o.datacenter }),
    ...(o.consulNamespace === undefined ? {} : { namespace: o.consulNamespace }),
    ...(o.partition === undefined ? {} : { partition: o.partition }),
  };
}

/** Builds the client, source and sink of one configured Consul connection. */
export function createConsul(o: ConsulOptions, ctx: AdapterContext, token = readToken(o)): { client: ConsulClient; source: ConsulSource; sink: ConsulSink } {
  const client = new ConsulClient(clientOptions(o, ctx, token));
  const timing = { waitSeconds: o.waitSeconds, maxBackoffMs: o.maxBackoffMs, logger: ctx.logger };
  const source = new ConsulSource(ctx.registryId, client, { ...timing, settings: importSettings(o, ctx.registryId), minWatchIntervalMs: o.minWatchIntervalMs });
  const sink = new ConsulSink(ctx.registryId, client, { ...timing, settings: exportSettings(o, ctx.bridgeId), nodeAddress: o.nodeAddress, nodeShards: o.nodeShards, maxTxnOps: o.maxTxnOps });
  return { client, source, sink };
}

/**
 * The session-lock elector of `leaderElection`. Its own client: a renewal must not wait behind
 * the sink's requests nor for the sink's timeout (which can exceed the renew deadline), and the
 * sink's write counter stays sync writes only.
 */
export function createConsulLeader(o: ConsulOptions, ctx: AdapterContext, token = readToken(o)): ConsulLeaderElector {
  const le = o.leaderElection;
  const timeoutMs = Math.min(o.requestTimeoutMs, Math.max(1000, le.retryPeriodSeconds * 1000));
  const client = new ConsulClient({ ...clientOptions(o, ctx, token), requestTimeoutMs: timeoutMs });
  const identity = le.identity ?? process.env['POD_NAME'] ?? `${hostname()}-${process.pid}`;
  return new ConsulLeaderElector(client, ctx.bridgeId, identity, le, ctx.logger);
}

/**
 * `kind: consul`: Consul catalog and health, both a source (blocking queries) and a sink (/v1/txn).
 * With `leaderElection.enabled` it also offers a session-lock elector; the runtime uses it for
 * every sink of the bridge, not just this one.
 */
export const consulAdapter: AdapterKind = {
  kind: 'consul',
  optionsSchema: ConsulOptions,
  canSource: true,
  canSink: true,
  create(options, ctx) {
    const o = options as ConsulOptions;
    const token = readToken(o);
    const { source, sink } = createConsul(o, ctx, token);
    const leader = o.leaderElection.enabled ? { leader: createConsulLeader(o, ctx, token) } : {};
    // fetch keeps its sockets in the global pool; watches end with the start() signal.
    return { source, sink, ...leader, close: () => Promise.resolve() };
  },
};

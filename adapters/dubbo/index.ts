import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { BridgeError } from '../../bridge/errors/index.ts';
import type { AdapterContext, AdapterKind } from '../../bridge/ports/index.ts';
import { ZkClient } from './client.ts';
import { ZkLeaderElector } from './leader.ts';
import { DubboOptions } from './options.ts';
import { DubboSink } from './sink.ts';
import { DubboSource } from './source.ts';

export { ZkClient, type ZkClientOptions, aclsFor } from './client.ts';
export { DubboSource, type DubboSourceOptions } from './source.ts';
export { DubboSink, type DubboSinkOptions } from './sink.ts';
export { DubboOptions, DubboLeaderOptions } from './options.ts';
export { ZkLeaderElector, electionPath, type ZkElectionClient, type ZkLeaderSettings } from './leader.ts';
export { DUBBO_ANNOTATION, DUBBO_MARK, DUBBO_META } from './keys.ts';
export { javaUrlDecode, javaUrlEncode, formatDubboUrl, parseDubboUrl, urlNodeName, type DubboUrl } from './url.ts';
export { serviceKey } from './convert.ts';

/** Digest credentials `user:password` from a file or an environment variable; never logged. */
export function readDigest(o: Pick<DubboOptions, 'auth'>, env: NodeJS.ProcessEnv = process.env): string | undefined {
  const auth = o.auth;
  if (auth === undefined) return undefined;
  if (auth.credentialsFile !== undefined) {
    try {
      return readFileSync(auth.credentialsFile, 'utf8').trim();
    } catch (err) {
      throw new BridgeError('ISTHMUS_CONFIG_UNREADABLE', `zookeeper credentialsFile ${auth.credentialsFile} cannot be read: ${(err as Error).message}`, { terminal: true, cause: err });
    }
  }
  const value = auth.credentialsEnv === undefined ? undefined : env[auth.credentialsEnv];
  if (value === undefined || value === '' || !value.includes(':')) {
    throw new BridgeError('ISTHMUS_CONFIG_INVALID', 'zookeeper digest auth needs credentialsFile or credentialsEnv holding user:password', { terminal: true });
  }
  return value.trim();
}

/**
 * Builds the client, source and sink of one ZooKeeper connection. Source and sink share one
 * session, so a session expiry is seen once and answered by both (relist, re-create).
 */
export function createDubbo(o: DubboOptions, ctx: AdapterContext, digest = readDigest(o)): { client: ZkClient; source: DubboSource; sink: DubboSink } {
  const client = new ZkClient({
    connect: o.connect,
    sessionTimeoutMs: o.sessionTimeoutMs,
    requestTimeoutMs: o.requestTimeoutMs,
    registry: ctx.registryId,
    logger: ctx.logger,
    ...(digest === undefined ? {} : { digest }),
  });
  const source = new DubboSource(ctx.registryId, client, {
    settings: { registry: ctx.registryId, namespace: o.namespace, names: o.names, protocols: o.protocols, maxUrlLength: o.maxUrlLength },
    root: o.root,
    servicesRoot: o.servicesRoot,
    levels: o.import,
    logger: ctx.logger,
  });
  const sink = new DubboSink(ctx.registryId, client, {
    settings: { bridgeId: ctx.bridgeId, root: o.root, servicesRoot: o.servicesRoot, defaultProtocol: o.defaultProtocol, release: o.release, persistent: o.persistent },
    stateRoot: o.stateRoot,
    logger: ctx.logger,
    ...(digest === undefined ? {} : { digest }),
  });
  return { client, source, sink };
}

/**
 * The elector of `leaderElection`, on the sink's own client: the election node and the exported
 * ephemeral nodes live and die with one session, so a replica never leads without its exports
 * being alive, nor keeps exports up under a session that no longer leads.
 */
export function createDubboLeader(o: DubboOptions, ctx: AdapterContext, client: ZkClient, digest: string | undefined): ZkLeaderElector {
  const le = o.leaderElection;
  return new ZkLeaderElector(client, {
    stateRoot: o.stateRoot,
    bridgeId: ctx.bridgeId,
    identity: le.identity ?? process.env['POD_NAME'] ?? `${hostname()}-${process.pid}`,
    retryPeriodSeconds: le.retryPeriodSeconds,
    deadlineRatio: le.deadlineRatio,
    sessionTimeoutMs: async () => (await client.ready()).getSessionTimeout(),
    requestedTimeoutMs: o.sessionTimeoutMs,
    logger: ctx.logger,
    ...(digest === undefined ? {} : { digest }),
  });
}

/**
 * `kind: dubbo`: Dubbo's registry on ZooKeeper, interface-level and application-level, both
 * directions. With `leaderElection.enabled` it also offers a ZooKeeper elector; the runtime uses
 * it for every sink of the bridge, not just this one.
 */
export const dubboAdapter: AdapterKind = {
  kind: 'dubbo',
  optionsSchema: DubboOptions,
  canSource: true,
  canSink: true,
  create(options, ctx) {
    const o = options as DubboOptions;
    const digest = readDigest(o);
    const { client, source, sink } = createDubbo(o, ctx, digest);
    return {
      source,
      sink,
      ...(o.leaderElection.enabled ? { leader: createDubboLeader(o, ctx, client, digest) } : {}),
      close: () => {
        // Closing the session removes our ephemeral nodes at once; that is Dubbo's own shutdown
        // behaviour and the documented liveness policy of this sink (DESIGN §4).
        client.close();
        return Promise.resolve();
      },
    };
  },
};

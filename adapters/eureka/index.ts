import { readFileSync } from 'node:fs';
import { BridgeError } from '../../bridge/errors/index.ts';
import type { AdapterContext, AdapterKind } from '../../bridge/ports/index.ts';
import { EurekaClient } from './client.ts';
import { EurekaOptions } from './options.ts';
import { EurekaSink } from './sink.ts';
import { EurekaSource } from './source.ts';

export { EurekaClient, dashboardOf } from './client.ts';
export { EurekaSource } from './source.ts';
export { EurekaSink } from './sink.ts';
export { EurekaOptions } from './options.ts';
export { M as EUREKA_MARKERS } from './encode.ts';

export interface Credentials {
  readonly username: string;
  readonly password: string;
}

/** The basic auth password from a file or an environment variable; never logged, never in a message. */
export function readCredentials(o: EurekaOptions, env: NodeJS.ProcessEnv = process.env): Credentials | undefined {
  if (o.username === undefined) {
    if (o.passwordFile !== undefined || o.passwordEnv !== undefined) throw new BridgeError('ISTHMUS_CONFIG_INVALID', 'eureka passwordFile/passwordEnv needs username', { terminal: true });
    return undefined;
  }
  if (o.passwordFile !== undefined) {
    try {
      return { username: o.username, password: readFileSync(o.passwordFile, 'utf8').trim() };
    } catch (err) {
      throw new BridgeError('ISTHMUS_CONFIG_UNREADABLE', `eureka passwordFile ${o.passwordFile} cannot be read: ${(err as Error).message}`, { terminal: true, cause: err });
    }
  }
  if (o.passwordEnv !== undefined) {
    const value = env[o.passwordEnv];
    if (value === undefined || value === '') throw new BridgeError('ISTHMUS_CONFIG_INVALID', `eureka passwordEnv names ${o.passwordEnv}, which is not set`, { terminal: true });
    return { username: o.username, password: value };
  }
  throw new BridgeError('ISTHMUS_CONFIG_INVALID', 'eureka username needs passwordFile or passwordEnv', { terminal: true });
}

export function eurekaClient(o: EurekaOptions, ctx: AdapterContext, credentials = readCredentials(o)): EurekaClient {
  return new EurekaClient({
    registry: ctx.registryId,
    // A trailing slash would make every path `//apps`, which Jersey does not route.
    servers: o.servers.map((s) => s.replace(/\/+$/, '')),
    ...(credentials === undefined ? {} : { credentials }),
    requestTimeoutMs: o.requestTimeoutMs,
    ...(o.dashboardUrl === undefined ? {} : { dashboardUrl: o.dashboardUrl }),
  });
}

export function createEurekaSource(o: EurekaOptions, ctx: AdapterContext, client = eurekaClient(o, ctx)): EurekaSource {
  return new EurekaSource(ctx.registryId, client, {
    settings: {
      registry: ctx.registryId,
      namespace: o.namespace,
      services: o.services,
      nameFrom: o.nameFrom,
      portName: o.portName,
      securePortName: o.securePortName,
      zoneMetaKey: o.zoneMetaKey,
    },
    fetchIntervalMs: o.fetchIntervalMs,
    fullFetchAfterMs: o.fullFetchAfterMs,
    selfPreservation: o.selfPreservation,
    emptyAnswer: o.emptyAnswer,
    logger: ctx.logger,
  });
}

export function createEurekaSink(o: EurekaOptions, ctx: AdapterContext, client = eurekaClient(o, ctx)): EurekaSink {
  return new EurekaSink(ctx.registryId, client, {
    settings: {
      bridgeId: ctx.bridgeId,
      portName: o.portName,
      securePortName: o.securePortName,
      zoneMetaKey: o.zoneMetaKey,
      namespace: o.namespace,
      renewIntervalSeconds: o.renewIntervalSeconds,
      leaseDurationSeconds: o.leaseDurationSeconds,
    },
    renewConcurrency: o.renewConcurrency,
    logger: ctx.logger,
  });
}

/** `kind: eureka`: Eureka (Spring Cloud Netflix / Netflix OSS) over its JSON REST API, both a source (full fetch + deltas) and a sink (register + renew). */
export const eurekaAdapter: AdapterKind = {
  kind: 'eureka',
  optionsSchema: EurekaOptions,
  canSource: true,
  canSink: true,
  create(options, ctx) {
    const o = options as EurekaOptions;
    const credentials = readCredentials(o);
    const source = createEurekaSource(o, ctx, eurekaClient(o, ctx, credentials));
    const sink = createEurekaSink(o, ctx, eurekaClient(o, ctx, credentials));
    // Renewals stop with the start() signal; nothing is cancelled on close (DESIGN §4): the
    // leases run out by themselves if no bridge takes over (README: after how long).
    return { source, sink, close: () => Promise.resolve() };
  },
};

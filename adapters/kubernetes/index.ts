import { hostname } from 'node:os';
import type { AdapterKind } from '../../bridge/ports/index.ts';
import { KubeClient } from './client.ts';
import { LeaderElector } from './leader.ts';
import { KubernetesMigrations } from './migrations.ts';
import { KubernetesOptions } from './options.ts';
import { KubernetesSink } from './sink.ts';
import { KubernetesSource } from './source.ts';

export { KubernetesOptions, LeaderOptions } from './options.ts';
export { KubernetesSource } from './source.ts';
export { KubernetesSink } from './sink.ts';
export { KubeClient, loadKubeConfig, type ConnectionSettings } from './client.ts';
export { LeaderElector, type LeaseApi } from './leader.ts';
export { KubernetesMigrations, SERVICE_MIGRATIONS, type KubernetesMigrationsOptions } from './migrations.ts';
export { K8S } from './markers.ts';

/**
 * `kind: kubernetes`: Services + EndpointSlices as a source (export to VM registries) and as a
 * sink (selectorless Services + EndpointSlices for imported VM services). One API connection
 * serves both sides. With `leaderElection.enabled` it also offers a Lease elector; the runtime
 * uses it for every sink of the bridge, not just this one. With `serviceMigrations.enabled`
 * (default) it hosts the ServiceMigration store the runtime reads splits from.
 */
export const kubernetesAdapter: AdapterKind = {
  kind: 'kubernetes',
  optionsSchema: KubernetesOptions,
  canSource: true,
  canSink: true,
  create(options, ctx) {
    const opts = options as KubernetesOptions;
    const client = KubeClient.connect(opts.connection);
    const le = opts.leaderElection;
    const identity = le.identity ?? process.env['POD_NAME'] ?? `${hostname()}-${process.pid}`;
    const sm = opts.serviceMigrations;
    const backoff = { minBackoffMs: opts.resyncBackoffMs.min, maxBackoffMs: opts.resyncBackoffMs.max };
    return {
      ...(le.enabled ? { leader: new LeaderElector(client, identity, le) } : {}),
      ...(sm.enabled ? { migrations: new KubernetesMigrations(client, { recheckSeconds: sm.recheckSeconds, ...backoff, logger: ctx.logger }) } : {}),
      source: new KubernetesSource(ctx.registryId, client, opts, ctx.logger),
      sink: new KubernetesSink(ctx.registryId, client, opts, ctx.bridgeId),
      // Nothing to deregister (DESIGN §4); watches end with the signal the runtime passes to start.
      close: () => Promise.resolve(),
    };
  },
};

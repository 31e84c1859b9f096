// values.schema.json for the Helm chart: the chart's own settings, written here, plus the
// bridge's config schema (`isthmus schema`) under `config`, so `helm install` rejects a config
// the bridge would reject. Regenerate with `npm run deploy:generate`; values-schema.test.ts
// fails when the committed file is stale.
import { configJsonSchema } from '../../bridge/runtime/config/index.ts';
import { ADAPTER_KINDS } from '../../adapters/index.ts';

type Json = Record<string, unknown>;

export const VALUES_SCHEMA_PATH = new URL('../../deploy/helm/isthmus/values.schema.json', import.meta.url);

const str = { type: 'string' };
const int = (minimum: number, maximum?: number): Json => ({ type: 'integer', minimum, ...(maximum === undefined ? {} : { maximum }) });
const bool = { type: 'boolean' };
const obj = { type: 'object' };
const list = { type: 'array' };
const map = { type: 'object', additionalProperties: { type: 'string' } };
const closed = (properties: Json, required: string[] = []): Json => ({ type: 'object', additionalProperties: false, properties, ...(required.length === 0 ? {} : { required }) });

function chartProperties(config: Json): Json {
  return {
    global: obj,
    replicaCount: { ...int(1), description: 'More than one needs leaderElection.enabled on a kubernetes registry.' },
    image: closed({ repository: str, tag: str, pullPolicy: { enum: ['Always', 'IfNotPresent', 'Never'] } }, ['repository']),
    imagePullSecrets: list,
    nameOverride: str,
    fullnameOverride: str,
    config,
    secretMounts: {
      type: 'array',
      items: closed({ name: { type: 'string', pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$' }, secretName: str, mountPath: str }, ['name', 'secretName', 'mountPath']),
    },
    resolverToken: {
      ...closed({ generate: bool, existingSecret: str }),
      description: 'Resolver bearer token: generated into a Secret (kept across upgrades) or an existing Secret with key "token"; without one, runtime weight changes are refused.',
    },
    env: list,
    ports: closed({ http: int(1, 65535), grpc: int(1, 65535) }, ['http', 'grpc']),
    service: closed({ type: { enum: ['ClusterIP', 'NodePort', 'LoadBalancer'] }, grpc: bool, annotations: map }),
    serviceAccount: closed({ create: bool, name: str, annotations: map }),
    rbac: closed({ create: bool }),
    terminationGracePeriodSeconds: {
      ...int(1),
      description: 'Must exceed preStopSleepSeconds plus the bridge\'s 25 s shutdown deadline.',
    },
    preStopSleepSeconds: int(0),
    resources: obj,
    heapPercentOfMemoryLimit: {
      ...int(10, 95),
      description: 'V8 old-space cap as a share of resources.limits.memory (Mi or Gi), set through NODE_OPTIONS unless env sets NODE_OPTIONS; without such a limit the image default (1024 MiB) applies.',
    },
    probes: obj,
    podDisruptionBudget: closed({ enabled: bool, minAvailable: { type: ['integer', 'string'] } }),
    podSecurityContext: obj,
    securityContext: obj,
    podAnnotations: map,
    podLabels: map,
    nodeSelector: map,
    tolerations: list,
    affinity: obj,
    topologySpread: bool,
    priorityClassName: str,
    serviceMonitor: closed({ enabled: bool, interval: str, labels: map }),
    prometheusRule: closed({
      enabled: bool,
      labels: map,
      thresholds: closed({
        noLeaderMinutes: int(1),
        sourceUnreachableMinutes: int(1),
        sourceNotSyncedMinutes: int(1),
        sinkFailingMinutes: int(1),
        holdAgeMinutes: int(1),
        quarantineWindowMinutes: int(1),
        propagationP99Seconds: { type: 'number', exclusiveMinimum: 0 },
        mtlsStrictMinutes: int(1),
        propagationSlowMinutes: int(1),
        resolverErrorRatio: { type: 'number', exclusiveMinimum: 0, maximum: 1 },
      }, ['noLeaderMinutes', 'sourceUnreachableMinutes', 'sourceNotSyncedMinutes', 'sinkFailingMinutes', 'holdAgeMinutes', 'quarantineWindowMinutes', 'mtlsStrictMinutes', 'propagationP99Seconds', 'propagationSlowMinutes', 'resolverErrorRatio']),
    }),
    networkPolicy: {
      ...closed({ enabled: bool, ingressFrom: list, egressTo: list }),
      description: 'Ingress to the resolver ports from exactly the ingressFrom peers (none when empty); egress limited to egressTo (+ DNS) when set.',
    },
  };
}

export function valuesSchema(): Json {
  const full = configJsonSchema(ADAPTER_KINDS);
  const { $schema: _schema, $id: _id, title: _title, ...config } = full;
  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    title: 'Isthmus Helm chart values',
    type: 'object',
    additionalProperties: false,
    required: ['image', 'config', 'ports'],
    properties: chartProperties({ ...config, description: 'The bridge config file (isthmus schema).' }),
  };
}

export function valuesSchemaText(): string {
  return `${JSON.stringify(valuesSchema(), null, 2)}\n`;
}

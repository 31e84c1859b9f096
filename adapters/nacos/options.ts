import { Type, type Static } from '@sinclair/typebox';
import { SECRET_ENV, SECRET_FILE, credentialFree } from '../../bridge/runtime/config/index.ts';

/** Options of `kind: nacos`: one Nacos 2.x/3.x cluster, one namespace, over the SDK gRPC port. */
export const NacosOptions = Type.Object(
  {
    servers: Type.Array(Type.String(credentialFree('set auth.username and put the password in auth.passwordFile')), {
      default: ['127.0.0.1:8848'],
      minItems: 1,
      description: 'host:port of the Nacos main (HTTP) port of each server; gRPC is this port + grpcPortOffset. Tried in turn.',
    }),
    grpcPortOffset: Type.Integer({ default: 1000, description: 'Offset of the SDK gRPC port from the main port (Nacos default 1000: 8848 → 9848).' }),
    contextPath: Type.String({ default: '/nacos', description: 'HTTP context path, used only for the login request.' }),
    nacosNamespace: Type.String({ default: 'public', description: 'Nacos namespace id to read and write (`public` is the default namespace).' }),
    auth: Type.Optional(
      Type.Object(
        {
          username: Type.String({ description: 'Nacos user; exchanged with the password for an access token (refreshed at half its lifetime).' }),
          passwordFile: Type.Optional(Type.String({ ...SECRET_FILE, description: 'File holding the password (read once at start; never logged).' })),
          passwordEnv: Type.Optional(Type.String({ ...SECRET_ENV, description: 'Environment variable holding the password, used when passwordFile is not set.' })),
        },
        { additionalProperties: false },
      ),
    ),
    namespace: Type.String({ default: 'default', description: 'Canonical namespace of every imported service.' }),
    namespaceMetaKey: Type.Optional(Type.String({ description: 'Instance metadata key that, when present, gives the canonical namespace instead.' })),
    group: Type.String({
      default: 'DEFAULT_GROUP',
      description: 'Default group: its services map to their bare name, other groups to `group@@service`; exports without a group go here.',
    }),
    groups: Type.Array(Type.String(), { default: ['DEFAULT_GROUP'], description: 'Groups whose services are imported.' }),
    services: Type.Array(Type.String(), { default: ['*'], description: 'Globs (`*`, `?`) of Nacos service names to import; only matching services are subscribed.' }),
    clusters: Type.Array(Type.String(), { default: [], description: 'Import only instances of these clusters (empty: all).' }),
    metadata: Type.Record(Type.String(), Type.String(), { default: {}, description: 'Import only instances whose metadata has these key/value pairs.' }),
    portName: Type.String({ default: 'http', description: 'Model name of the Nacos instance port; on export, the endpoint port with this name is registered.' }),
    zoneMetaKey: Type.String({ default: 'zone', description: 'Instance metadata key carrying the zone.' }),
    cluster: Type.String({ default: 'DEFAULT', description: 'Cluster name of exported instances.' }),
    ephemeral: Type.Union([Type.Literal('auto'), Type.Literal('ephemeral'), Type.Literal('persistent')], {
      default: 'auto',
      description: 'Instance kind written on export. auto: match the instances already in the target service (Nacos refuses to mix), ephemeral when there are none.',
    }),
    pageSize: Type.Integer({ minimum: 10, maximum: 1000, default: 500, description: 'Services per ServiceListRequest page.' }),
    relistIntervalMs: Type.Integer({
      minimum: 500,
      default: 10_000,
      description: 'Interval of the service-list poll that finds new and deleted services (Nacos pushes instance changes, not the service list).',
    }),
    keepaliveMs: Type.Integer({ minimum: 500, default: 5_000, description: 'Idle time after which a health check is sent on the connection.' }),
    maxBackoffMs: Type.Integer({ minimum: 100, default: 10_000, description: 'Cap of the exponential reconnect backoff.' }),
    requestTimeoutMs: Type.Integer({ minimum: 100, default: 10_000, description: 'Timeout of one request.' }),
  },
  { additionalProperties: false },
);

export type NacosOptions = Static<typeof NacosOptions>;

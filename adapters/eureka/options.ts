import { Type, type Static } from '@sinclair/typebox';
import { SECRET_ENV, SECRET_FILE, credentialFree } from '../../bridge/runtime/config/index.ts';

/** Options of `kind: eureka`: one Eureka cluster (its peers are failover targets), over the JSON REST API. */
export const EurekaOptions = Type.Object(
  {
    servers: Type.Array(Type.String(credentialFree('set username and put the password in passwordFile')), {
      default: ['http://127.0.0.1:8761/eureka'],
      minItems: 1,
      description:
        'Base URLs of the Eureka servers, Jersey prefix included (Spring Cloud: http://host:8761/eureka, Netflix WAR: …/eureka/v2), in failover order. ' +
        'Requests stay on the server that last answered and move to the next on a connection failure or a 5xx.',
    }),
    username: Type.Optional(Type.String({ description: 'HTTP basic auth user (Spring Security in front of the server).' })),
    passwordFile: Type.Optional(Type.String({ ...SECRET_FILE, description: 'File holding the basic auth password (read once at start; never logged).' })),
    passwordEnv: Type.Optional(Type.String({ ...SECRET_ENV, description: 'Environment variable holding the basic auth password, used when passwordFile is not set.' })),
    namespace: Type.String({ default: 'default', description: 'Canonical namespace of every imported service.' }),
    services: Type.Array(Type.String(), { default: ['*'], description: 'Globs (`*`, `?`) of lower-case application names (or vipAddresses, see nameFrom) to import.' }),
    nameFrom: Type.Union([Type.Literal('app'), Type.Literal('vipAddress')], {
      default: 'app',
      description: 'Service name of an imported instance: its application name lower-cased (app), or its first vipAddress (what Spring Cloud sets to spring.application.name).',
    }),
    portName: Type.String({ default: 'http', description: 'Model name of the Eureka `port`; on export, the endpoint port with this name (else the lowest-named one) is registered as `port`.' }),
    securePortName: Type.String({ default: 'https', description: 'Model name of the Eureka `securePort`; on export an endpoint port with this name is registered as the enabled securePort.' }),
    zoneMetaKey: Type.String({ default: 'zone', description: 'Instance metadata key carrying the zone (Spring Cloud Netflix reads `zone`).' }),
    fetchIntervalMs: Type.Integer({
      minimum: 200,
      default: 5_000,
      description: 'Interval of the delta fetch (/apps/delta). Servers with the read-only response cache on answer from a 30 s snapshot anyway.',
    }),
    fullFetchAfterMs: Type.Integer({
      minimum: 1_000,
      default: 150_000,
      description: 'A delta is trusted only this long after the last successful fetch (the server keeps deltas 3 min); after a longer gap the next fetch is a full one.',
    }),
    selfPreservation: Type.Union([Type.Literal('hold'), Type.Literal('ignore')], {
      default: 'hold',
      description:
        'hold: while the server is in self-preservation (lease expiration off, read from its dashboard) removals of imported endpoints are held and the reason shown in status. ' +
        'ignore: no dashboard read.',
    }),
    dashboardUrl: Type.Optional(Type.String({ description: 'Dashboard page that shows "Lease expiration enabled"; default: each server URL without its last path segment (Spring: http://host:8761/).' })),
    emptyAnswer: Type.Union([Type.Literal('hold'), Type.Literal('apply')], {
      default: 'hold',
      description:
        'hold: an answer with no imported instance left after there were some is "cannot tell": the last view is kept, removals are held, status says why. apply: take it as the truth.',
    }),
    renewIntervalSeconds: Type.Integer({ minimum: 1, default: 30, description: 'Lease renewal interval of exported instances (leaseInfo.renewalIntervalInSecs; Spring default 30).' }),
    leaseDurationSeconds: Type.Integer({
      minimum: 2,
      default: 90,
      description: 'Lease duration of exported instances (leaseInfo.durationInSecs; Spring default 90). A bridge that stops renewing loses them after about twice this plus one eviction tick.',
    }),
    renewConcurrency: Type.Integer({ minimum: 1, maximum: 256, default: 8, description: 'Renewals (and re-registrations) in flight at once.' }),
    requestTimeoutMs: Type.Integer({ minimum: 100, default: 10_000, description: 'Timeout of one request.' }),
  },
  { additionalProperties: false },
);

export type EurekaOptions = Static<typeof EurekaOptions>;

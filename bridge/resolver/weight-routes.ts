/**
 * Runtime migration weights (DESIGN §5), under /v1 and therefore behind the bearer token:
 *
 * | method & path                   | does                                                                     |
 * |---------------------------------|--------------------------------------------------------------------------|
 * | GET /v1/weights                 | `{ weights: { "ns/name": { registry: share } }, registries: [ids] }`     |
 * | PUT /v1/weights/:ns/:name       | body `{ "vm": 90, "k8s": 10 }` sets the split; answers `{ service, split, stored }` |
 * | DELETE /v1/weights/:ns/:name    | clears it (the config file's split, if any, applies again)               |
 *
 * PUT and DELETE change what every caller is routed to, so they are refused (403
 * ISTHMUS_FORBIDDEN) on a resolver without a token: there, anyone who can reach the port could.
 * PUT refuses a registry id that is not configured (400 ISTHMUS_UNKNOWN_REGISTRY) and a service
 * no registry has and no split names (404 ISTHMUS_NOT_FOUND): splits then stay bounded by the
 * catalog, and a typo in either name is an error instead of a silent no-op or a 0 % origin.
 *
 * Where a split is stored: with a Kubernetes registry whose ServiceMigration CRD is usable, PUT
 * and DELETE write the service's ServiceMigration object (`stored: "ServiceMigration"`), which
 * every replica follows and a restart reads back; otherwise this bridge's memory only
 * (`stored: "memory"`, with `note` saying why), forgotten at restart. Either way the change
 * reaches resolver answers and watches at once and registries on the next reconcile.
 */
import type { FastifyInstance } from 'fastify';
import type { Catalog } from '../catalog/index.ts';
import { BridgeError } from '../errors/index.ts';
import { refKey, type ServiceRef } from '../model/index.ts';
import type { MigrationStore } from '../ports/index.ts';
import type { Weights } from '../sync/index.ts';
import { nameProblem } from './limits.ts';
import { usage } from './params.ts';

const JSON_TYPE = 'application/json; charset=utf-8';

export interface WeightRoutesContext {
  readonly weights: Weights;
  readonly catalog: Pick<Catalog, 'get'>;
  /** False when the resolver has no token: PUT and DELETE are refused. */
  readonly writable: boolean;
  /** ServiceMigration objects, when a Kubernetes registry hosts them. */
  readonly migrations?: Pick<MigrationStore, 'available' | 'setSplit'>;
}

/** Where a PUT or DELETE went, in its answer. */
type Stored = { stored: 'ServiceMigration'; object: string } | { stored: 'memory'; note: string };

const MEMORY_ONLY = 'kept in this bridge\'s memory only: other replicas do not see it and a restart forgets it';

interface RefParams {
  Params: { namespace: string; name: string };
}

function refOf(params: { namespace: string; name: string }): ServiceRef {
  const problem = nameProblem('namespace', params.namespace) ?? nameProblem('name', params.name);
  if (problem !== undefined) throw usage(problem);
  return { namespace: params.namespace, name: params.name };
}

function forbidden(): BridgeError {
  return new BridgeError(
    'ISTHMUS_FORBIDDEN',
    'runtime weight changes are disabled because this resolver has no token: set resolver.auth.tokenFile (the Helm chart does by default), or change weights in the config file',
  );
}

export function registerWeightRoutes(app: FastifyInstance, ctx: WeightRoutesContext): void {
  const { weights, catalog } = ctx;

  app.get('/weights', (_req, reply) => {
    const registries = weights.registries();
    const body = { weights: weights.all(), ...(registries === undefined ? {} : { registries }) };
    return reply.type(JSON_TYPE).send(JSON.stringify(body));
  });

  app.put<RefParams & { Body: unknown }>('/weights/:namespace/:name', async (req, reply) => {
    if (!ctx.writable) throw forbidden();
    const ref = refOf(req.params);
    const body = req.body;
    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      throw usage('the body must be a JSON object of registry id → share, like {"vm":90,"k8s":10}');
    }
    if (catalog.get(ref) === undefined && weights.get(ref) === undefined) {
      throw new BridgeError('ISTHMUS_NOT_FOUND', `service ${refKey(ref)} is not in the catalog; a split can be set only for a service some registry has (check the name with isthmus status)`);
    }
    const split = body as Record<string, unknown>;
    ctx.weights.check(ref, split);
    const stored = await store(ref, split);
    return reply.type(JSON_TYPE).send(JSON.stringify({ service: refKey(ref), split: weights.get(ref) ?? null, ...stored }));
  });

  app.delete<RefParams>('/weights/:namespace/:name', async (req, reply) => {
    if (!ctx.writable) throw forbidden();
    const ref = refOf(req.params);
    const stored = await store(ref, undefined);
    // What remains in force (the config file's split, if any) is the answer.
    return reply.type(JSON_TYPE).send(JSON.stringify({ service: refKey(ref), split: weights.get(ref) ?? null, ...stored }));
  });

  /** Writes the ServiceMigration when one can be written, else memory, and says which. */
  async function store(ref: ServiceRef, split: Record<string, number> | undefined): Promise<Stored> {
    const available = ctx.migrations?.available();
    if (ctx.migrations === undefined || available?.ok !== true) {
      weights.set(ref, split);
      const why = available?.reason === undefined ? 'no Kubernetes registry is configured' : available.reason;
      return { stored: 'memory', note: `${MEMORY_ONLY} (${why})` };
    }
    const object = await ctx.migrations.setSplit(ref, split);
    // A memory split left from before the CRD was usable would come back if the object went.
    weights.set(ref, undefined);
    return { stored: 'ServiceMigration', object: `${object.namespace}/${object.name}` };
  }
}

/**
 * Runtime migration weights (DESIGN §5), under /v1 and therefore behind the bearer token:
 *
 * | method & path                   | does                                                                     |
 * |---------------------------------|--------------------------------------------------------------------------|
 * | GET /v1/weights                 | `{ weights: { "ns/name": { registry: share } } }`                        |
 * | PUT /v1/weights/:ns/:name       | body `{ "vm": 90, "k8s": 10 }` sets the split; answers `{ service, split }` |
 * | DELETE /v1/weights/:ns/:name    | clears it (weights return to what the registries say)                    |
 *
 * A change reaches resolver answers and watches at once (the catalog re-weighs the service) and
 * registries on the next reconcile. It lives in memory: a restart returns to the config file.
 */
import type { FastifyInstance } from 'fastify';
import { refKey, type ServiceRef } from '../model/index.ts';
import type { Weights } from '../sync/index.ts';
import { usage } from './params.ts';

const JSON_TYPE = 'application/json; charset=utf-8';

interface RefParams {
  Params: { namespace: string; name: string };
}

function refOf(params: { namespace: string; name: string }): ServiceRef {
  if (params.namespace === '' || params.name === '') throw usage('namespace and name must not be empty');
  return { namespace: params.namespace, name: params.name };
}

export function registerWeightRoutes(app: FastifyInstance, weights: Weights): void {
  app.get('/weights', (_req, reply) => reply.type(JSON_TYPE).send(JSON.stringify({ weights: weights.all() })));

  app.put<RefParams & { Body: unknown }>('/weights/:namespace/:name', (req, reply) => {
    const ref = refOf(req.params);
    const body = req.body;
    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      throw usage('the body must be a JSON object of registry id → share, like {"vm":90,"k8s":10}');
    }
    weights.set(ref, body as Record<string, unknown>);
    return reply.type(JSON_TYPE).send(JSON.stringify({ service: refKey(ref), split: weights.get(ref) ?? null }));
  });

  app.delete<RefParams>('/weights/:namespace/:name', (req, reply) => {
    const ref = refOf(req.params);
    weights.set(ref, undefined);
    return reply.type(JSON_TYPE).send(JSON.stringify({ service: refKey(ref), split: null }));
  });
}

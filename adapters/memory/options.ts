import { Type, type Static } from '@sinclair/typebox';

const SeedEndpoint = Type.Object(
  {
    address: Type.String({ description: 'IP address of the instance.' }),
    port: Type.Integer({ minimum: 1, maximum: 65535 }),
    ready: Type.Boolean({ default: true }),
    weight: Type.Integer({ minimum: 0, maximum: 10000, default: 100 }),
    zone: Type.Optional(Type.String()),
    metadata: Type.Record(Type.String(), Type.String(), { default: {} }),
  },
  { additionalProperties: false },
);

const SeedService = Type.Object(
  {
    // `/` separates namespace and name everywhere in Isthmus, so neither may hold one.
    namespace: Type.String({ minLength: 1, maxLength: 512, pattern: '^[^/\\x00-\\x1f]+$' }),
    name: Type.String({ minLength: 1, maxLength: 512, pattern: '^[^/\\x00-\\x1f]+$' }),
    portName: Type.String({ default: 'http', description: 'Name of the single port every seeded endpoint listens on.' }),
    metadata: Type.Record(Type.String(), Type.String(), { default: {} }),
    endpoints: Type.Array(SeedEndpoint, { default: [] }),
  },
  { additionalProperties: false },
);

/** A registry held in the bridge's memory: for trying Isthmus without servers, and for tests. */
export const MemoryOptions = Type.Object(
  {
    services: Type.Array(SeedService, { default: [], description: 'Services the registry starts with, as if VMs had registered them.' }),
  },
  { additionalProperties: false },
);

export type MemoryOptions = Static<typeof MemoryOptions>;

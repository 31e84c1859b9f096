import { Type } from '@sinclair/typebox';
import type { RegistryKinds } from './registry-kind.ts';

/** Registry kinds for unit tests of the config loader and the CLI; no adapter involved. */
export const TEST_KINDS: RegistryKinds = {
  kubernetes: {
    optionsSchema: Type.Object({ kubeconfig: Type.Optional(Type.String()), namespaces: Type.Optional(Type.Array(Type.String())) }),
    canSource: true,
    canSink: true,
  },
  nacos: {
    optionsSchema: Type.Object({
      servers: Type.Array(Type.String(), { minItems: 1 }),
      namespace: Type.Optional(Type.String({ default: 'public' })),
    }),
    canSource: true,
    canSink: true,
  },
  consul: { optionsSchema: Type.Object({ address: Type.String() }), canSource: true, canSink: true },
  static: { optionsSchema: Type.Object({ file: Type.String() }), canSource: true, canSink: false },
};

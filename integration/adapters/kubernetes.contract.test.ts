import { describe } from 'vitest';
import { describeAdapterContract } from '../../adapters/contract/index.ts';
import { kubeEnv } from './kubernetes-env.ts';
import { makeHarness } from './kubernetes-harness.ts';

const env = kubeEnv();

describe.skipIf(env === undefined)('kubernetes (real kube-apiserver)', () => {
  describeAdapterContract('kubernetes', () => makeHarness(env!));
});

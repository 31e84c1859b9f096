export { describeAdapterContract } from './suite.ts';
export type { ContractHarness } from './harness.ts';

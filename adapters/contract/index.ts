export { describeAdapterContract } from './suite.ts';
export { contractEndpoint } from './endpoint.ts';
export type { ContractHarness } from './harness.ts';

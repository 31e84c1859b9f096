export { buildParts, closeParts, type AdapterKinds, type BridgeParts } from './build.ts';
export { runBridge, type RunOptions } from './run.ts';
export { planBridge, type PlanOptions } from './plan.ts';
export { cleanupBridge, type CleanupOptions } from './cleanup.ts';

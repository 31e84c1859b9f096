// Public API of the real-server harness. See README.md next to this file.
export { SERVER_NAMES, parseServerNames } from './connections.ts';
export type {
  ConnectionByServer,
  ConsulConnection,
  EurekaConnection,
  KubernetesConnection,
  NacosConnection,
  ServerConnections,
  ServerName,
  ZooKeeperConnection,
} from './connections.ts';
export { ensureServers, provisionServers, runningConnection, stopServers } from './orchestrate.ts';
export type { EnsureResult, ServerOptions } from './orchestrate.ts';
export { serverStatus } from './status.ts';
export { crashProcess } from './crash.ts';
export { startPrivateEureka } from './kinds/eureka-private.ts';
export type { PrivateEureka, PrivateEurekaOptions } from './kinds/eureka-private.ts';
export type { ServerStatusReport } from './status.ts';
export { consoleProgress, silentProgress } from './progress.ts';
export type { ProgressEvent, ProgressListener } from './progress.ts';
export { cacheDir, runDir } from './paths.ts';
export { requestedMode, resolveMode } from './mode.ts';

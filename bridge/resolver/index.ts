export {
  createHttpResolver,
  listen,
  drain,
  close,
  resolverStats,
  type ResolverStats,
  type HttpResolverDeps,
  type HttpResolverOptions,
  type MigrationAccess,
} from './http-resolver.ts';
export { INDEX_HEADER } from './routes.ts';
export { DEFAULT_EVENT_TIMING, type EventStreamTiming } from './event-stream.ts';
export { DEFAULT_WAIT_MS, MAX_WAIT_MS, type EndpointFilters } from './params.ts';
export type { ServiceList, ServiceSummary } from './view.ts';
export { GrpcResolver, type GrpcResolverDeps, type GrpcResolverStats } from './grpc-resolver.ts';
export { DEFAULT_WATCH_LIMITS, MAX_NAME_LENGTH, watchLimitsFromConfig, type WatchLimits, type WatchLimitsConfig } from './limits.ts';
export { readTlsFiles, type TlsFiles } from './tls.ts';
export { meshNaming, meshEntry, MESH_METADATA_KEY, type MeshNaming, type MeshTarget } from './mesh.ts';

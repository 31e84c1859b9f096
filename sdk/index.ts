export { HttpTransport, type HttpTransportOptions } from './http-transport.ts';
export { GrpcTransport, type GrpcTransportOptions } from './grpc-transport.ts';
export { IsthmusClient } from './client.ts';
export { registerIsthmusResolver, endpointsFor, CHANNEL_OPTION, SCHEME, type ResolverOptions } from './grpc-js-resolver.ts';
export { usable, weightedSequence, portOf, type Preference } from './pick.ts';
export {
  IsthmusError,
  parseTargetName,
  type Filters,
  type ResolvedEndpoint,
  type ResolvedService,
  type ServiceListing,
  type ServiceName,
  type Transport,
  type WatchHandlers,
  type WatchUpdate,
} from './types.ts';

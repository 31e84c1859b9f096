import { makeGenericClientConstructor, type CallOptions, type credentials, type Client, type ClientReadableStream, type Metadata, type ServiceError } from '@grpc/grpc-js';
import {
  ResolverServiceService,
  type ResolveRequest,
  type ResolveResponse,
  type WatchRequest,
  type WatchResponse,
} from '../../../proto/gen/isthmus/v1/resolver.ts';

/** A plain grpc-js client of the resolver service, for tests that need raw calls and statuses. */
export interface ResolverClient extends Client {
  resolve(req: ResolveRequest, md: Metadata, options: CallOptions, cb: (err: ServiceError | null, res?: ResolveResponse) => void): unknown;
  watch(req: WatchRequest, md: Metadata, options: CallOptions): ClientReadableStream<WatchResponse>;
}

export const ResolverClientCtor = makeGenericClientConstructor(ResolverServiceService, 'isthmus.v1.ResolverService') as unknown as new (
  address: string,
  creds: ReturnType<typeof credentials.createInsecure>,
) => ResolverClient;

import { credentials, makeGenericClientConstructor, Metadata, status, type Client, type ClientReadableStream, type ServiceError } from '@grpc/grpc-js';
import {
  ResolverServiceService,
  type ListServicesRequest,
  type ListServicesResponse,
  type ResolveRequest,
  type ResolveResponse,
  type Service,
  type WatchRequest,
  type WatchResponse,
} from '../proto/gen/isthmus/v1/resolver.ts';
import { Backoff } from './backoff.ts';
import { IsthmusError, type Filters, type ResolvedService, type ServiceListing, type ServiceName, type Transport, type WatchHandlers } from './types.ts';

export interface GrpcTransportOptions {
  /** host:port of the resolver's gRPC listener. */
  readonly address: string;
  readonly token?: string;
  /** PEM CA for a TLS listener; absent = plaintext. */
  readonly tlsCa?: Buffer;
}

type Callback<T> = (err: ServiceError | null, value?: T) => void;

interface ResolverClient extends Client {
  listServices(req: ListServicesRequest, md: Metadata, cb: Callback<ListServicesResponse>): void;
  resolve(req: ResolveRequest, md: Metadata, cb: Callback<ResolveResponse>): void;
  watch(req: WatchRequest, md: Metadata): ClientReadableStream<WatchResponse>;
}

const ResolverClientCtor = makeGenericClientConstructor(ResolverServiceService, 'isthmus.v1.ResolverService') as unknown as new (
  address: string,
  creds: ReturnType<typeof credentials.createInsecure>,
) => ResolverClient;

export function serviceFromProto(s: Service): ResolvedService {
  return {
    namespace: s.namespace,
    name: s.name,
    revision: s.revision,
    endpoints: s.endpoints.map((ep) => ({
      address: ep.address,
      ports: ep.ports,
      ...(ep.protocol === '' ? {} : { protocol: ep.protocol }),
      ready: ep.ready,
      weight: ep.weight,
      ...(ep.zone === '' ? {} : { zone: ep.zone }),
      origin: ep.origin?.registry ?? '',
      metadata: ep.metadata,
    })),
    registries: s.registries,
    split: s.split,
  };
}

function protoFilters(f: Filters | undefined): { healthy: boolean; origin: string; zone: string; mesh: boolean } {
  return { healthy: f?.healthy ?? false, origin: f?.origin ?? '', zone: f?.zone ?? '', mesh: f?.mesh ?? false };
}

function wrap(err: ServiceError): IsthmusError {
  const [code, ...rest] = err.details.split(': ');
  return /^ISTHMUS_[A-Z_]+$/.test(code ?? '') && rest.length > 0
    ? new IsthmusError(code ?? '', rest.join(': '), { cause: err })
    : new IsthmusError(`GRPC_${status[err.code]}`, err.details, { cause: err });
}

/** The resolver's gRPC API; watches are server streams that reconnect with backoff and resume by index. */
export class GrpcTransport implements Transport {
  readonly #client: ResolverClient;
  readonly #token: string | undefined;

  constructor(options: GrpcTransportOptions) {
    const creds = options.tlsCa === undefined ? credentials.createInsecure() : credentials.createSsl(options.tlsCa);
    this.#client = new ResolverClientCtor(options.address, creds);
    this.#token = options.token;
  }

  #metadata(): Metadata {
    const md = new Metadata();
    if (this.#token !== undefined) md.set('authorization', `Bearer ${this.#token}`);
    return md;
  }

  listServices(namespace?: string): Promise<ServiceListing> {
    return new Promise((resolve, reject) => {
      this.#client.listServices({ namespace: namespace ?? '' }, this.#metadata(), (err, value) => {
        if (err !== null || value === undefined) reject(err === null ? new IsthmusError('GRPC_EMPTY', 'no answer') : wrap(err));
        else resolve(value);
      });
    });
  }

  resolve(service: ServiceName, filters?: Filters): Promise<ResolvedService | undefined> {
    return new Promise((resolve, reject) => {
      const req = { namespace: service.namespace, name: service.name, filters: protoFilters(filters) };
      this.#client.resolve(req, this.#metadata(), (err, value) => {
        if (err?.code === status.NOT_FOUND) resolve(undefined);
        else if (err !== null) reject(wrap(err));
        else resolve(value?.service === undefined ? undefined : serviceFromProto(value.service));
      });
    });
  }

  watch(service: ServiceName, filters: Filters, handlers: WatchHandlers): () => void {
    const backoff = new Backoff();
    let index = 0;
    let stopped = false;
    let stream: ClientReadableStream<WatchResponse> | undefined;
    let retry: NodeJS.Timeout | undefined;

    const open = (): void => {
      retry = undefined;
      if (stopped) return;
      const s = this.#client.watch({ namespace: service.namespace, name: service.name, filters: protoFilters(filters), index }, this.#metadata());
      stream = s;
      s.on('data', (msg: WatchResponse) => {
        backoff.reset();
        if (msg.index === index) return;
        index = msg.index;
        handlers.onUpdate({ index, service: msg.deleted || msg.service === undefined ? undefined : serviceFromProto(msg.service) });
      });
      // A stream ends on error or when the bridge drains (shutdown): reconnect either way.
      let reopened = false;
      const again = (err?: ServiceError): void => {
        if (reopened || stopped) return;
        reopened = true;
        if (err !== undefined && err.code !== status.CANCELLED) handlers.onError?.(wrap(err));
        retry = setTimeout(open, backoff.next());
        // A pending reconnect alone must not keep a process alive that has nothing else to do.
        retry.unref();
      };
      s.on('error', (err: ServiceError) => { again(err); });
      s.on('end', () => { again(); });
    };
    open();
    return () => {
      stopped = true;
      if (retry !== undefined) clearTimeout(retry);
      stream?.cancel();
    };
  }

  close(): void {
    this.#client.close();
  }
}

import { status } from '@grpc/grpc-js';

/**
 * Requests a resolver has answered, kept as plain numbers: at 20,000 lookups/s a prom-client
 * `inc()` with labels (a label-key lookup and a hash update per call) would be a visible share of
 * each request. The runtime publishes these at scrape time instead (runtime/resolver-metrics.ts).
 *
 * Only failures are classified where they happen; everything else counts as ok, so the hot path
 * of a successful lookup is one increment.
 */
export class RequestCounts {
  requests = 0;
  /** Refused for what the caller sent: bad name, unknown service, missing token. */
  clientErrors = 0;
  /** Refused or failed on our side: internal error, shutting down, too many watches. */
  serverErrors = 0;

  /** One failed request, by HTTP status. */
  failedHttp(statusCode: number): void {
    if (statusCode >= 500) this.serverErrors++;
    else this.clientErrors++;
  }

  /** One failed call, by gRPC status. */
  failedGrpc(code: status): void {
    if (GRPC_CLIENT_CODES.has(code)) this.clientErrors++;
    else this.serverErrors++;
  }
}

// The codes that mean "the caller asked for something wrong", the 4xx of gRPC; RESOURCE_EXHAUSTED
// is our watch limit, so it sits with the server side like HTTP's 503 for the same refusal.
const GRPC_CLIENT_CODES: ReadonlySet<status> = new Set([
  status.INVALID_ARGUMENT,
  status.NOT_FOUND,
  status.UNAUTHENTICATED,
  status.PERMISSION_DENIED,
  status.FAILED_PRECONDITION,
  status.OUT_OF_RANGE,
]);

/**
 * Bounds on what one caller can make a resolver hold. Every watch costs memory until its client
 * goes away, and a client that stops reading makes the server hold the state it could not send,
 * so both the number of watches and the unsent bytes are capped.
 */
export interface WatchLimits {
  /**
   * Open watches per listener: gRPC `Watch` streams on the gRPC listener; event streams plus
   * waiting long-polls on the HTTP one. Beyond it a new watch is refused (gRPC
   * RESOURCE_EXHAUSTED, HTTP 503 ISTHMUS_TOO_MANY_WATCHES) and the client retries later.
   */
  readonly maxWatchStreams: number;
  /**
   * Unsent state all gRPC `Watch` streams may hold together. A stream whose turn would go beyond
   * it waits (it keeps only a "dirty" mark, no bytes) until others' clients take theirs. Each
   * stream holds at most one unsent state whatever this says.
   */
  readonly maxBufferedBytes: number;
  /**
   * A `Watch` stream whose client has not taken its last state after this long is a slow
   * consumer: its HTTP/2 stream is reset (the client sees RESOURCE_EXHAUSTED and reconnects,
   * getting the current state), which frees what it held.
   */
  readonly slowConsumerMs: number;
}

/**
 * Sized for the chart's 512 Mi. An open gRPC stream costs about 35 KB (grpc-js and HTTP/2 state),
 * so 2,000 cost ~70 MB. 32 MiB of unsent state, plus about as much again in states of dropped
 * streams awaiting garbage collection, is ~100 MB however many clients stall (measured with
 * stalled-watch-memory.ts). 10 s lets a slow link take a state of a few MB.
 */
export const DEFAULT_WATCH_LIMITS: WatchLimits = {
  maxWatchStreams: 2_000,
  maxBufferedBytes: 32 * 1024 * 1024,
  slowConsumerMs: 10_000,
};

export function watchLimits(partial: Partial<WatchLimits> | undefined): WatchLimits {
  return { ...DEFAULT_WATCH_LIMITS, ...partial };
}

/** `resolver.limits` as the config file writes it: MiB and seconds, the units people think in. */
export interface WatchLimitsConfig {
  readonly maxWatchStreams?: number;
  readonly maxBufferedMiB?: number;
  readonly slowConsumerSeconds?: number;
}

export function watchLimitsFromConfig(c: WatchLimitsConfig | undefined): Partial<WatchLimits> {
  if (c === undefined) return {};
  return {
    ...(c.maxWatchStreams === undefined ? {} : { maxWatchStreams: c.maxWatchStreams }),
    ...(c.maxBufferedMiB === undefined ? {} : { maxBufferedBytes: c.maxBufferedMiB * 1024 * 1024 }),
    ...(c.slowConsumerSeconds === undefined ? {} : { slowConsumerMs: c.slowConsumerSeconds * 1000 }),
  };
}

/**
 * Longest namespace or service name the resolver takes, on HTTP (fastify's maxParamLength) and
 * gRPC alike. Dubbo interface names with version and group reach ~200.
 */
export const MAX_NAME_LENGTH = 512;

/** Why a namespace or name is refused, without echoing it (it may be megabytes), or undefined. */
export function nameProblem(what: 'namespace' | 'name', value: string): string | undefined {
  if (value === '') return `${what} must not be empty`;
  if (value.length > MAX_NAME_LENGTH) return `${what} is ${value.length} characters long; at most ${MAX_NAME_LENGTH} are accepted`;
  return undefined;
}

import { ResolverServiceService, WatchResponse } from '../../proto/gen/isthmus/v1/resolver.ts';

/**
 * Builds and encodes Watch messages once per state rather than once per stream. A change wakes
 * every stream of a service in the same event-loop turn (their coalescing timers were armed by
 * the same catalog change; budget wake-ups run in one loop), and a state of a few thousand
 * endpoints costs milliseconds to build and encode: 1,000 streams would block the loop for
 * seconds. Streams with the same service, filters and index share one message and its bytes.
 *
 * The share lasts one turn only, so nothing is kept for streams that no longer need it: the
 * bytes hang off the message object and are collected with it. A stream also needs a state's
 * size before it writes (the send budget counts bytes), and grpc-js serializes inside `write`;
 * the service definition's serializer hands grpc-js the bytes encoded here.
 */
export class WatchEncoder {
  readonly #encoded = new WeakMap<WatchResponse, Buffer>();
  readonly #shared = new Map<string, { readonly index: number; readonly message: WatchResponse }>();
  #clearing: NodeJS.Immediate | undefined;

  /** The definition to register: the generated one, with Watch's serializer reusing `size`'s bytes. */
  readonly service = {
    ...ResolverServiceService,
    watch: {
      ...ResolverServiceService.watch,
      responseSerialize: (value: WatchResponse): Buffer => this.#encoded.get(value) ?? Buffer.from(WatchResponse.encode(value).finish()),
    },
  };

  /** The message for `key` (service and filters) at `index`, built at most once this turn. */
  message(key: string, index: number, build: () => WatchResponse): WatchResponse {
    const hit = this.#shared.get(key);
    if (hit?.index === index) return hit.message;
    const message = build();
    this.#shared.set(key, { index, message });
    this.#clearing ??= setImmediate(() => {
      this.#clearing = undefined;
      this.#shared.clear();
    });
    return message;
  }

  /** Encodes `message` (once) for its coming write and answers its size in bytes. */
  size(message: WatchResponse): number {
    let buffer = this.#encoded.get(message);
    if (buffer === undefined) {
      const bytes = WatchResponse.encode(message).finish();
      // A view, not a copy: grpc-js copies into its framed buffer anyway.
      buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      this.#encoded.set(message, buffer);
    }
    return buffer.length;
  }

  /** Stops the end-of-turn clearing timer (server close). */
  stop(): void {
    if (this.#clearing !== undefined) clearImmediate(this.#clearing);
    this.#clearing = undefined;
    this.#shared.clear();
  }
}

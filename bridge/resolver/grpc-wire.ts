import { status } from '@grpc/grpc-js';

// gRPC over HTTP/2 as the resolver speaks it (github.com/grpc/grpc PROTOCOL-HTTP2.md): each
// message is a 5-byte prefix (compressed flag, big-endian length) and the bytes; the status goes
// in trailers, or alone in the headers ("trailers-only") when there is no message. Pure functions,
// so the framing is tested without a socket.

/** What the resolver accepts in one request message, as grpc-js servers do by default. */
export const MAX_REQUEST_BYTES = 4 * 1024 * 1024;

export interface GrpcFailure {
  readonly code: status;
  readonly details: string;
}

export function failure(code: status, details: string): GrpcFailure {
  return { code, details };
}

export function isFailure(x: unknown): x is GrpcFailure {
  return typeof x === 'object' && x !== null && 'code' in x && 'details' in x && !Buffer.isBuffer(x);
}

/** One message framed for the wire, in a single buffer so it goes out as one write. */
export function frame(message: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(5 + message.length);
  out[0] = 0;
  out.writeUInt32BE(message.length, 1);
  out.set(message, 5);
  return out;
}

/**
 * The single request message of a call whose whole body is `body`. gRPC clients send one
 * message and half-close for unary and server-streaming methods; anything else is refused with
 * the status grpc-js gives it.
 */
export function onlyMessage(body: Buffer): Buffer | GrpcFailure {
  if (body.length < 5) return failure(status.INTERNAL, 'no request message received');
  if (body[0] !== 0) return failure(status.UNIMPLEMENTED, 'compressed request messages are not supported; send them uncompressed (identity)');
  const length = body.readUInt32BE(1);
  if (length > MAX_REQUEST_BYTES) return tooLarge(length);
  if (body.length < 5 + length) return failure(status.INTERNAL, 'request message truncated');
  if (body.length > 5 + length) return failure(status.UNIMPLEMENTED, 'more than one request message for a method that takes one');
  return body.subarray(5);
}

/** The length a body's first message declares, once its prefix has arrived. */
export function declaredLength(head: Buffer): number | undefined {
  return head.length < 5 ? undefined : head.readUInt32BE(1);
}

export function tooLarge(length: number): GrpcFailure {
  return failure(status.RESOURCE_EXHAUSTED, `request message larger than max (${length} vs. ${MAX_REQUEST_BYTES})`);
}

/**
 * grpc-message is percent-encoded: printable ASCII other than '%' as is, every other byte of the
 * UTF-8 as %XX (PROTOCOL-HTTP2.md, "Status-Message").
 */
export function encodeGrpcMessage(details: string): string {
  let plain = true;
  for (let i = 0; i < details.length; i++) {
    const c = details.charCodeAt(i);
    if (c < 0x20 || c > 0x7e || c === 0x25) {
      plain = false;
      break;
    }
  }
  if (plain) return details;
  let out = '';
  for (const byte of Buffer.from(details, 'utf8')) {
    out += byte >= 0x20 && byte <= 0x7e && byte !== 0x25 ? String.fromCharCode(byte) : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/** Whether a request's content-type is gRPC's (`application/grpc`, `application/grpc+proto`, …). */
export function isGrpcContentType(value: string | undefined): boolean {
  return value !== undefined && (value === 'application/grpc' || value.startsWith('application/grpc+') || value.startsWith('application/grpc;'));
}

import { constants } from 'node:http2';

interface ResettableStream {
  close(code?: number): void;
  readonly destroyed: boolean;
}

function isResettable(x: unknown): x is ResettableStream {
  return typeof x === 'object' && x !== null && typeof (x as { close?: unknown }).close === 'function' && 'rstCode' in x;
}

/**
 * Resets a server call's HTTP/2 stream with ENHANCE_YOUR_CALM, which grpc-js clients report as
 * RESOURCE_EXHAUSTED ("Bandwidth exhausted or memory limit exceeded"). It is the only way to shed
 * a client that stopped reading: a status travels in trailers, which queue behind the very data
 * the client does not take, and ending the call keeps that data. A reset drops it.
 *
 * grpc-js has no public server-side abort, so this reaches for the call's stream (the object
 * grpc-js 1.10+ hands a handler wraps it as `call.call.stream`). Answers false if that shape
 * is gone; grpc-limits.test.ts fails then, before a release ships without the policy.
 */
export function resetCall(call: object): boolean {
  const inner = (call as { call?: { stream?: unknown } }).call;
  const stream = inner?.stream;
  if (!isResettable(stream)) return false;
  if (!stream.destroyed) stream.close(constants.NGHTTP2_ENHANCE_YOUR_CALM);
  return true;
}

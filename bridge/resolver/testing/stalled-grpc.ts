// Test-only: gRPC Watch calls from clients that stop reading, as raw HTTP/2 streams. A grpc-js
// client keeps reading into its own buffer (up to 16 messages), so it never stalls the server's
// flow-control window; these send one request and never consume a byte of the answer.
import { connect, type ClientHttp2Session } from 'node:http2';
import type { ServiceRef } from '../../model/index.ts';
import { WatchRequest } from '../../../proto/gen/isthmus/v1/resolver.ts';

export interface StalledWatches {
  /** RST_STREAM codes the server ended streams with, by stream, once they closed. */
  readonly resets: number[];
  close(): void;
}

/** Opens `count` Watch streams for `ref` spread over `sessions` connections, none of them read. */
export function openStalledWatches(port: number, ref: ServiceRef, count: number, sessions = 1): StalledWatches {
  const list: ClientHttp2Session[] = Array.from({ length: sessions }, () => connect(`http://127.0.0.1:${port}`).on('error', () => undefined));
  const body = Buffer.from(WatchRequest.encode({ namespace: ref.namespace, name: ref.name, filters: undefined, index: 0 }).finish());
  const header = Buffer.alloc(5);
  header.writeUInt32BE(body.length, 1);
  const frame = Buffer.concat([header, body]);
  const resets: number[] = [];
  for (let i = 0; i < count; i++) {
    const session = list[i % sessions];
    if (session === undefined) throw new Error('sessions must be at least 1');
    const req = session.request({
      ':method': 'POST',
      ':path': '/isthmus.v1.ResolverService/Watch',
      'content-type': 'application/grpc',
      te: 'trailers',
    });
    req.on('error', () => undefined);
    req.on('close', () => { if (req.rstCode !== 0) resets.push(req.rstCode); });
    req.end(frame);
    // Paused with no 'data' listener: nothing is consumed, so no WINDOW_UPDATE goes back.
    req.pause();
  }
  return { resets, close: () => { for (const s of list) s.destroy(); } };
}

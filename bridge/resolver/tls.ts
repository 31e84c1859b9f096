import { readFileSync } from 'node:fs';
import { BridgeError } from '../errors/index.ts';

/** PEM material for the resolver listeners (HTTP and gRPC share one certificate). */
export interface TlsFiles {
  readonly cert: Buffer;
  readonly key: Buffer;
}

/** Reads `resolver.tls`; unreadable files stop start-up rather than fall back to plaintext. */
export function readTlsFiles(files: { readonly certFile: string; readonly keyFile: string }): TlsFiles {
  const read = (path: string, what: string): Buffer => {
    try {
      return readFileSync(path);
    } catch (err) {
      const reason = (err as NodeJS.ErrnoException).code ?? 'read failed';
      throw new BridgeError('ISTHMUS_CONFIG_UNREADABLE', `cannot read resolver TLS ${what} "${path}" (${reason})`, { cause: err, terminal: true });
    }
  };
  return { cert: read(files.certFile, 'certificate'), key: read(files.keyFile, 'key') };
}

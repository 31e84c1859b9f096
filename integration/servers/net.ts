// Small network probes used by readiness checks.
import { connect } from 'node:net';

/** Resolves true when something accepts a TCP connection on host:port. */
export function tcpOpen(host: string, portNumber: number, timeoutMs = 1_000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port: portNumber });
    const done = (open: boolean): void => {
      socket.destroy();
      resolve(open);
    };
    socket.setTimeout(timeoutMs, () => {
      done(false);
    });
    socket.once('connect', () => {
      done(true);
    });
    socket.once('error', () => {
      done(false);
    });
  });
}

/** Sends a ZooKeeper-style four-letter word and returns the whole reply. */
export function fourLetterWord(host: string, portNumber: number, word: string, timeoutMs = 2_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port: portNumber });
    let reply = '';
    socket.setEncoding('utf8');
    socket.setTimeout(timeoutMs, () => {
      socket.destroy();
      reject(new Error(`no reply to ${word} within ${timeoutMs} ms`));
    });
    socket.once('connect', () => socket.end(word));
    socket.on('data', (chunk: string) => {
      reply += chunk;
    });
    socket.once('error', reject);
    socket.once('close', () => {
      resolve(reply);
    });
  });
}

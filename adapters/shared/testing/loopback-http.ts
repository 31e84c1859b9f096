// A plain HTTP server on loopback for unit tests of our registry clients (Consul, Kubernetes):
// the kernel picks the port, and close() drops kept-alive connections so the test ends promptly.
import { createServer, type RequestListener, type Server } from 'node:http';

export interface LoopbackHttp {
  readonly server: Server;
  /** `http://127.0.0.1:<port>`, no trailing slash. */
  readonly base: string;
  close(): Promise<void>;
}

export async function listenLoopback(handler: RequestListener): Promise<LoopbackHttp> {
  const server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => { resolve(); }));
  const addr = server.address();
  const port = typeof addr === 'object' && addr !== null ? addr.port : 0;
  return {
    server,
    base: `http://127.0.0.1:${port}`,
    close: () => {
      server.closeAllConnections();
      return new Promise<void>((resolve) => server.close(() => { resolve(); }));
    },
  };
}

// GET over http or https with an optional private CA. Global fetch cannot take a CA without an
// undici dispatcher, and the apiserver's certificate is self-signed.
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';

export interface HttpReply {
  readonly status: number;
  readonly body: string;
}

export function httpGet(
  url: string,
  options: { readonly ca?: string; readonly headers?: Record<string, string>; readonly timeoutMs?: number } = {},
): Promise<HttpReply> {
  const target = new URL(url);
  const request = target.protocol === 'https:' ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = request(
      target,
      { method: 'GET', headers: options.headers ?? {}, ...(options.ca === undefined ? {} : { ca: options.ca }) },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          body += chunk;
        });
        res.on('end', () => {
          resolve({ status: res.statusCode ?? 0, body });
        });
        res.on('error', reject);
      },
    );
    req.setTimeout(options.timeoutMs ?? 3_000, () => {
      req.destroy(new Error(`GET ${url} timed out`));
    });
    req.on('error', reject);
    req.end();
  });
}

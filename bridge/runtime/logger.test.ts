import { describe, expect, it } from 'vitest';
import { childLogger, createLogger, flushLogger } from './logger.ts';

function capture() {
  const lines: string[] = [];
  return { lines, destination: { write: (s: string) => void lines.push(s) }, json: () => lines.map((l) => JSON.parse(l) as Record<string, unknown>) };
}

describe('logger', () => {
  it('writes JSON lines with level names, bindings and the configured level', async () => {
    const out = capture();
    const root = createLogger({ level: 'warn', destination: out.destination, bindings: { bridge: 'prod-east' } });
    const log = childLogger(root, { component: 'sink', registry: 'consul', route: 'k8s->consul' });
    log.info('dropped: below level');
    log.warn({ ref: 'shop/orders' }, 'held');
    await flushLogger(root);
    expect(out.json()).toEqual([
      expect.objectContaining({ level: 'warn', bridge: 'prod-east', component: 'sink', registry: 'consul', route: 'k8s->consul', msg: 'held' }),
    ]);
  });

  it('never writes a secret', () => {
    const out = capture();
    const log = createLogger({ destination: out.destination });
    const secret = 'tok-9f8e7d6c5b4a';
    log.info({ token: secret, password: secret }, 'top level');
    log.info({ options: { auth: { password: secret, accessToken: secret } } }, 'nested');
    log.info({ req: { headers: { authorization: `Bearer ${secret}`, 'x-consul-token': secret } } }, 'headers');
    log.info({ 'x-consul-token': secret, registry: { token: secret } }, 'more');
    childLogger(log, { component: 'nacos', registry: 'nacos' }).info({ err: Object.assign(new Error('auth failed'), { details: { token: secret } }) }, 'error');
    expect(out.lines).toHaveLength(5);
    expect(out.lines.join('')).not.toContain(secret);
    expect(out.lines.join('')).toContain('[redacted]');
  });
});

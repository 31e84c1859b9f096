// The table's cells and its in-sync verdict, on hand-made observations.
import { describe, expect, it } from 'vitest';
import type { Column, Observation } from './observe.ts';
import { renderTable } from './table.ts';

/** Everything where the routes should put it. */
function synced(): Map<Column, Map<string, string[]>> {
  const pods = ['10.244.1.5:8080'];
  const cart = ['10.244.1.7:8080', '10.244.2.9:8080'];
  const catalog = ['192.168.40.41:8080', '192.168.40.42:8080'];
  return new Map<Column, Map<string, string[]>>([
    ['kubernetes', new Map([['orders', ['192.168.10.11:8080', '192.168.10.12:8080', ...pods]], ['payments', ['192.168.20.21:8443']], ['inventory', ['192.168.30.31:20880']], ['catalog', catalog], ['cart', cart]])],
    ['consul', new Map([['orders', ['192.168.10.11:8080', '192.168.10.12:8080', ...pods]], ['payments', []], ['inventory', []], ['catalog', []], ['cart', cart]])],
    ['nacos', new Map([['orders', pods], ['payments', ['192.168.20.21:8443']], ['inventory', []], ['catalog', []], ['cart', cart]])],
    ['dubbo', new Map([['orders', pods], ['payments', []], ['inventory', ['192.168.30.31:20880']], ['catalog', []], ['cart', cart]])],
    ['eureka', new Map([['orders', pods], ['payments', []], ['inventory', []], ['catalog', catalog], ['cart', cart]])],
    ['resolver', new Map([['orders', ['192.168.10.11:8080', '192.168.10.12:8080', ...pods]], ['payments', ['192.168.20.21:8443']], ['inventory', ['192.168.30.31:20880']], ['catalog', catalog], ['cart', cart]])],
  ]);
}

describe('renderTable', () => {
  it('marks native and exported endpoints and calls a full picture in sync', () => {
    const { text, complete } = renderTable(synced());
    expect(complete).toBe(true);
    expect(text).toMatch(/192\.168\.10\.11:8080\s+VM\s+via isthmus\s+native\s+-\s+-\s+-\s+answers/);
    expect(text).toMatch(/catalog\s+192\.168\.40\.41:8080\s+VM\s+via isthmus\s+-\s+-\s+-\s+native\s+answers/);
    expect(text).toMatch(/10\.244\.2\.9:8080\s+pod\s+native\s+via isthmus\s+via isthmus\s+via isthmus\s+via isthmus\s+answers/);
    expect(text.split('\n')[0]).toMatch(/DUBBO\s+EUREKA\s+RESOLVER$/);
    expect(text).not.toContain('(pending)');
  });

  it('shows an endpoint missing where a route should put it as pending', () => {
    const obs = synced();
    obs.get('dubbo')?.set('cart', ['10.244.1.7:8080']);
    const { text, complete } = renderTable(obs);
    expect(complete).toBe(false);
    expect(text).toMatch(/10\.244\.2\.9:8080\s+pod\s+native\s+via isthmus\s+via isthmus\s+\(pending\)\s+via isthmus/);
  });

  it('waits for pod endpoints to reach Eureka too', () => {
    const obs = synced();
    obs.get('eureka')?.set('orders', []);
    const { text, complete } = renderTable(obs);
    expect(complete).toBe(false);
    expect(text).toMatch(/10\.244\.1\.5:8080\s+pod\s+native\s+via isthmus\s+via isthmus\s+via isthmus\s+\(pending\)\s+answers/);
  });

  it('reports an unreachable registry instead of an empty column', () => {
    const obs: Observation = synced();
    obs.set('nacos', new Error('nacos: connection refused'));
    const { text, complete } = renderTable(obs);
    expect(complete).toBe(false);
    expect(text).toContain('nacos: connection refused');
    expect(text).toMatch(/192\.168\.20\.21:8443\s+VM\s+via isthmus\s+-\s+error/);
  });

  it('shows a stranger only once Isthmus acted on it', () => {
    const obs = synced();
    obs.get('consul')?.get('orders')?.push('127.0.0.1:9999');
    expect(renderTable(obs).text).not.toContain('127.0.0.1:9999');
    obs.get('kubernetes')?.get('orders')?.push('127.0.0.1:9999');
    expect(renderTable(obs).text).toMatch(/127\.0\.0\.1:9999\s+\?\s+present\s+present/);
  });
});

// deploy/examples/mixed.yaml documents the demo's configuration: it must be what the demo
// generates for the harness's default ports (Kubernetes credentials aside) and must validate.
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { ADAPTER_KINDS } from '../../adapters/index.ts';
import { parseConfig } from '../../bridge/runtime/index.ts';
import type { DemoConnections } from './config.ts';
import { demoConfig } from './config.ts';

const EXAMPLE = new URL('../../deploy/examples/mixed.yaml', import.meta.url).pathname;

const defaults = {
  kubernetes: { kubeconfigPath: '/tmp/kubeconfig.yaml' },
  consul: { httpUrl: 'http://127.0.0.1:8500' },
  nacos: { serverAddr: '127.0.0.1:8848' },
  zookeeper: { connectString: '127.0.0.1:2181' },
  eureka: { baseUrl: 'http://127.0.0.1:8761/eureka' },
} as unknown as DemoConnections;

describe('deploy/examples/mixed.yaml', () => {
  const text = readFileSync(EXAMPLE, 'utf8');

  it('is the configuration the demo generates for the default ports', () => {
    const generated = demoConfig(defaults, { bridgeId: 'demo', resolverPort: 18080, logLevel: 'error' });
    const k8s = (generated['registries'] as Record<string, Record<string, unknown>>)['k8s'];
    expect(k8s?.['connection']).toEqual({ kubeconfig: '/tmp/kubeconfig.yaml', context: 'isthmus' });
    delete k8s?.['connection'];
    expect(parse(text)).toEqual(generated);
  });

  it('validates against the adapters\' schemas', () => {
    const config = parseConfig(text, ADAPTER_KINDS);
    expect(Object.keys(config.registries).sort()).toEqual(['consul', 'dubbo', 'eureka', 'k8s', 'nacos']);
    expect(config.routes.length).toBeGreaterThanOrEqual(2);
  });
});

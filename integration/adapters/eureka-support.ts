// Helpers for the Eureka real-server tests: the harness's Eureka (or ISTHMUS_EUREKA_SERVER=base
// URL for a developer's own), adapter options, and a "VM application" that registers over the
// REST API exactly as a Spring Cloud Netflix client does (no Isthmus markers).
import { Value } from '@sinclair/typebox/value';
import { randomUUID } from 'node:crypto';
import { inject } from 'vitest';
import type { Endpoint, ServiceRef } from '../../bridge/model/index.ts';
import type { AdapterContext } from '../../bridge/ports/index.ts';
import { SILENT_LOGGER } from '../../bridge/sync/logger-port.ts';
import { EurekaOptions } from '../../adapters/eureka/index.ts';
import type { EurekaInstance, EurekaStatus } from '../../adapters/eureka/native.ts';
import { ensureServers, runningConnection } from '../servers/index.ts';
import type {} from '../servers/provided-context.ts';

/** Base URL of the Eureka under test, Jersey prefix included. */
export async function sharedEureka(): Promise<string> {
  const own = process.env.ISTHMUS_EUREKA_SERVER;
  if (own !== undefined && own !== '') return own.replace(/\/+$/, '');
  const provided = inject('isthmusServers').eureka;
  const conn = provided ?? (await runningConnection('eureka')) ?? (await ensureServers(['eureka'])).connections.eureka;
  if (conn === undefined) throw new Error('the harness did not start eureka');
  return conn.baseUrl;
}

export function runId(): string {
  return randomUUID().slice(0, 8);
}

export function eurekaOptions(base: string | readonly string[], extra: Partial<EurekaOptions> = {}): EurekaOptions {
  return Value.Default(EurekaOptions, {
    servers: typeof base === 'string' ? [base] : [...base],
    fetchIntervalMs: 300,
    requestTimeoutMs: 5000,
    ...extra,
  }) as EurekaOptions;
}

export function ctx(registryId: string, bridgeId: string): AdapterContext {
  return { registryId, bridgeId, logger: SILENT_LOGGER };
}

/** The instance a Spring Cloud Netflix client registers (IdUtils id, vip = application name). */
export function springInstance(ref: ServiceRef, ep: Endpoint, status: EurekaStatus = 'UP', metadata: Record<string, string> = {}): EurekaInstance {
  const port = Object.values(ep.ports)[0] ?? 8080;
  return {
    instanceId: `${ep.address}:${ref.name}:${port}`,
    app: ref.name.toUpperCase(),
    hostName: ep.address,
    ipAddr: ep.address,
    status,
    overriddenStatus: 'UNKNOWN',
    port: { $: port, '@enabled': 'true' },
    securePort: { $: 443, '@enabled': 'false' },
    vipAddress: ref.name,
    secureVipAddress: ref.name,
    dataCenterInfo: { '@class': 'com.netflix.appinfo.InstanceInfo$DefaultDataCenterInfo', name: 'MyOwn' },
    leaseInfo: { renewalIntervalInSecs: 30, durationInSecs: 90 },
    metadata: { 'management.port': String(port), ...ep.metadata, ...metadata },
    lastDirtyTimestamp: String(Date.now()),
  };
}

/** A VM application talking to Eureka over plain REST (register, status, cancel, list). */
export class NativeEureka {
  readonly base: string;

  constructor(base: string) {
    this.base = base;
  }

  async register(ref: ServiceRef, ep: Endpoint, status: EurekaStatus = 'UP', metadata: Record<string, string> = {}): Promise<EurekaInstance> {
    const instance = springInstance(ref, ep, status, metadata);
    await this.#send('POST', `/apps/${ref.name.toUpperCase()}`, JSON.stringify({ instance }), [204, 200]);
    return instance;
  }

  async setStatus(ref: ServiceRef, ep: Endpoint, status: EurekaStatus): Promise<void> {
    const port = Object.values(ep.ports)[0] ?? 8080;
    await this.#send('PUT', `/apps/${ref.name.toUpperCase()}/${ep.address}:${ref.name}:${port}/status?value=${status}`, undefined, [200]);
  }

  async cancel(ref: ServiceRef, ep: Endpoint): Promise<void> {
    const port = Object.values(ep.ports)[0] ?? 8080;
    await this.#send('DELETE', `/apps/${ref.name.toUpperCase()}/${ep.address}:${ref.name}:${port}`, undefined, [200, 404]);
  }

  async list(ref: ServiceRef): Promise<EurekaInstance[]> {
    const res = await fetch(`${this.base}/apps/${ref.name.toUpperCase()}`, { headers: { accept: 'application/json' } });
    if (res.status === 404) return [];
    const body = (await res.json()) as { application: { instance: EurekaInstance | EurekaInstance[] } };
    const i = body.application.instance;
    return Array.isArray(i) ? i : [i];
  }

  async #send(method: string, path: string, body: string | undefined, ok: number[]): Promise<void> {
    const res = await fetch(`${this.base}${path}`, { method, headers: { accept: 'application/json', 'content-type': 'application/json' }, ...(body === undefined ? {} : { body }) });
    if (!ok.includes(res.status)) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
  }
}

// Addresses for the drill's "VMs" and "pods". Each gets its own IP, as in reality, and it cannot
// be a loopback one: the apiserver refuses 127.0.0.0/8 in EndpointSlices ("may not be in the
// loopback range"), and VM providers land in slices too once Isthmus imports them. So the drill
// adds /32 addresses from the benchmarking range 198.18.0.0/15 (RFC 2544, never routed on the
// internet) to the loopback device for the length of a run, binds every peer to its own address
// only (never a wildcard), and removes the addresses afterwards. Needs root (CAP_NET_ADMIN).
import { execFile } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { createServer } from 'node:net';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** One /24 per run (third octet), so two drills on one machine do not share addresses. */
export interface AddressPlan {
  readonly octet: number;
}

// Each framework draws its block from its own quarter of the third octet: drills of different
// frameworks run at the same time in the suite and must never pick the same block.
const QUARTERS = ['consul', 'nacos', 'dubbo', 'eureka'];

export function addressPlan(framework: string): AddressPlan {
  const quarter = Math.max(0, QUARTERS.indexOf(framework));
  return { octet: 1 + quarter * 63 + randomInt(0, 63) };
}

export function vmAddress(plan: AddressPlan, index: number): string {
  return `198.18.${plan.octet}.${10 + index}`;
}

export function podAddress(plan: AddressPlan, index: number): string {
  return `198.18.${plan.octet}.${100 + index}`;
}

/** Adds `ip`/32 to `lo` unless present; returns whether it was added (the caller removes it). */
export async function addLoopbackAddress(ip: string): Promise<boolean> {
  const { stdout } = await run('ip', ['-o', 'addr', 'show', 'dev', 'lo']);
  if (stdout.includes(` ${ip}/32 `)) return false;
  try {
    await run('ip', ['addr', 'add', `${ip}/32`, 'dev', 'lo']);
  } catch (error) {
    throw new Error(`could not add ${ip}/32 to the loopback device (the drill needs root): ${(error as Error).message}`);
  }
  return true;
}

export async function removeLoopbackAddress(ip: string): Promise<void> {
  await run('ip', ['addr', 'del', `${ip}/32`, 'dev', 'lo']).catch(() => undefined);
}

/** A port that is free on `host` right now (the kernel picks it). */
export function freePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, host, () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => { resolve(port); });
    });
  });
}

/** Thrown by a wait's check to give up at once instead of retrying until the timeout. */
export class StopWaiting extends Error {}

/** Polls `check` until it returns a value other than undefined; returns it and the time taken. */
export async function waitFor<T>(what: string, check: () => Promise<T | undefined>, timeoutMs: number, intervalMs = 100, signal?: AbortSignal): Promise<{ value: T; ms: number }> {
  const started = Date.now();
  let lastError: unknown;
  for (;;) {
    signal?.throwIfAborted();
    try {
      const value = await check();
      if (value !== undefined) return { value, ms: Date.now() - started };
    } catch (error) {
      if (error instanceof StopWaiting) throw error;
      lastError = error;
    }
    if (Date.now() - started > timeoutMs) {
      const why = lastError instanceof Error ? `; last error: ${lastError.message}` : '';
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${why}`);
    }
    await sleep(intervalMs, signal);
  }
}

/** setTimeout as a promise that rejects when `signal` aborts (Ctrl-C stops the drill promptly). */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted === true) {
      reject(signal.reason as Error);
      return;
    }
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal!.reason as Error);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** GET returning status and parsed JSON (or text), with a timeout; never throws on HTTP status. */
export async function getJson(url: string, timeoutMs = 5000): Promise<{ status: number; body: unknown }> {
  const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
  const text = await res.text();
  try {
    return { status: res.status, body: JSON.parse(text) as unknown };
  } catch {
    return { status: res.status, body: text };
  }
}

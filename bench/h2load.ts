// Resolver load from h2load (nghttp2's load generator, Debian package nghttp2-client): gRPC Resolve
// over HTTP/2 and HTTP lookups over HTTP/1.1 keep-alive. Written in C, it spends a fraction of the
// CPU per call that any Node client does, so on two shared cores the figure is the resolver's, not
// the load generator's. h2load cannot read gRPC trailers, so every answer is checked by size: a
// Resolve that fails (NOT_FOUND, auth) is trailers-only and carries no DATA, and a wrong service
// has another length. An HTTP answer other than 2xx is counted as failed by h2load itself.
import { execFile, spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { percentile, round } from './stats.ts';

export interface H2loadRun {
  /** host:port of the listener (cleartext). */
  readonly target: string;
  readonly path: string;
  /**
   * grpc: HTTP/2 POSTs of `body` as application/grpc. http1: HTTP/1.1 keep-alive GETs asking for
   * JSON, one at a time per connection (no pipelining), as a pooled client sends them.
   */
  readonly protocol: 'grpc' | 'http1';
  /** One framed gRPC request message, sent as the body of every call (grpc only). */
  readonly body?: Buffer;
  /** Bytes of DATA in one correct answer (the framed response, or the HTTP body). */
  readonly answerBytes: number;
  readonly connections: number;
  /** Calls in flight on each connection (HTTP/2 streams; 1 for http1). */
  readonly streamsPerConnection: number;
  /** Calls in all: a fixed count, so every one completes and the DATA check is exact. */
  readonly calls: number;
}

export interface H2loadResult {
  readonly requests: number;
  readonly requestsPerSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
}

/** True when h2load is on PATH. */
export function haveH2load(): boolean {
  return spawnSync('h2load', ['--version'], { stdio: 'ignore' }).status === 0;
}

/** The figures in h2load's summary; throws on anything that did not complete as a correct answer. */
export function parseH2loadSummary(out: string, answerBytes: number): { done: number; seconds: number } {
  const finished = /finished in ([\d.]+)(ms|s),/.exec(out);
  const requests = /requests: (\d+) total, (\d+) started, (\d+) done, (\d+) succeeded, (\d+) failed, (\d+) errored, (\d+) timeout/.exec(out);
  const traffic = /traffic: .*, ([\d.]+\w*) \((\d+)\) data/.exec(out);
  if (finished === null || requests === null || traffic === null) throw new Error(`h2load printed no summary:\n${out}`);
  const [done, succeeded, failed, errored, timeout] = [3, 4, 5, 6, 7].map((i) => Number(requests[i]));
  if (failed !== 0 || errored !== 0 || timeout !== 0 || succeeded !== done) {
    throw new Error(`h2load: ${done} done, ${succeeded} succeeded, ${failed} failed, ${errored} errored, ${timeout} timed out`);
  }
  const data = Number(traffic[2]);
  if (data !== done! * answerBytes) {
    throw new Error(`h2load: ${data} bytes of answers for ${done} calls; each correct answer is ${answerBytes} bytes, so some calls failed or answered something else`);
  }
  const seconds = Number(finished[1]) / (finished[2] === 'ms' ? 1000 : 1);
  return { done: done!, seconds };
}

/** Per-call latencies (ms) from h2load's --log-file: start µs, status, duration µs per line. */
export function parseH2loadLog(text: string): number[] {
  const out: number[] = [];
  for (const line of text.split('\n')) {
    const duration = line.split('\t')[2];
    if (duration !== undefined && duration !== '') out.push(Number(duration) / 1000);
  }
  return out;
}

export async function runH2load(o: H2loadRun): Promise<H2loadResult> {
  const dir = await mkdtemp(join(tmpdir(), 'isthmus-h2load-'));
  try {
    const logFile = join(dir, 'calls.log');
    const args = ['-n', String(o.calls), '-c', String(o.connections), '--log-file', logFile];
    if (o.protocol === 'http1') {
      args.push('--h1', '-m', '1', '-H', 'accept: application/json');
    } else {
      if (o.body === undefined) throw new Error('h2load: a gRPC run needs a request body');
      const bodyFile = join(dir, 'request.bin');
      await writeFile(bodyFile, o.body);
      args.push('-m', String(o.streamsPerConnection), '-d', bodyFile, '-H', 'content-type: application/grpc', '-H', 'te: trailers');
    }
    args.push(`http://${o.target}${o.path}`);
    const out = await new Promise<string>((resolve, reject) => {
      execFile('h2load', args, { maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
        if (err !== null) reject(new Error(`h2load failed: ${err.message}\n${stderr}`));
        else resolve(stdout);
      });
    });
    const { done, seconds } = parseH2loadSummary(out, o.answerBytes);
    const latencies = parseH2loadLog(await readFile(logFile, 'utf8'));
    return { requests: done, requestsPerSecond: round(done / seconds, 0), p50Ms: round(percentile(latencies, 50)), p99Ms: round(percentile(latencies, 99)) };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

// grpc-go as a second, independent client of the resolver's gRPC server (integration/servers/go/
// grpc-probe/main.go), built from the Go module proxy and cached like promtool; a rerun is a no-op.
// `node --import tsx integration/process/launch.ts integration/resolver/grpc-probe.ts` builds it
// (.ci/run's tools step); tests call buildGrpcProbe(), which is instant once built.
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { type GoBinarySpec, buildGoBinary } from '../servers/go-build.ts';
import { consoleProgress, type ProgressListener, silentProgress } from '../servers/progress.ts';

const probeSpec: GoBinarySpec = {
  server: 'grpc-probe',
  tool: 'grpc-probe',
  module: 'grpc-probe',
  pkg: '.',
  version: 'grpc-go-v1.85.0',
  sources: ['main.go'],
};

export function buildGrpcProbe(onProgress: ProgressListener = silentProgress): Promise<string> {
  return buildGoBinary(probeSpec, onProgress);
}

export interface ProbeLine {
  readonly code: number;
  readonly message: string;
  /** The answer's message bytes (empty on a failure status). */
  readonly body: Buffer;
}

/** Runs one call; resolves with every line the probe printed. */
export function probe(binary: string, args: readonly string[]): Promise<ProbeLine[]> {
  return new Promise((resolve, reject) => {
    execFile(binary, [...args], { timeout: 30_000 }, (err, stdout, stderr) => {
      if (err !== null) {
        reject(new Error(`grpc-probe failed: ${err.message}\n${stderr}`));
        return;
      }
      resolve(stdout.trim().split('\n').filter((l) => l !== '').map((l) => {
        const j = JSON.parse(l) as { code: number; message: string; body: string };
        return { code: j.code, message: j.message, body: Buffer.from(j.body, 'base64') };
      }));
    });
  });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  process.stdout.write(`grpc-probe: ${await buildGrpcProbe(consoleProgress)}\n`);
}

// Runs a build step to completion with its output in a log file, ticking progress while it runs.
import { spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { failWithLog, tailFile } from './log-tail.ts';
import { type ProgressListener, TICK_MS, formatElapsed } from './progress.ts';

export interface CommandOptions {
  readonly server: string;
  /** Short human label, e.g. "go build kube-apiserver". */
  readonly label: string;
  readonly cwd: string;
  readonly env?: NodeJS.ProcessEnv;
  readonly logPath: string;
  readonly onProgress: ProgressListener;
}

function lastLine(text: string): string {
  const line = text.split('\n').at(-1) ?? '';
  return line.length > 120 ? `${line.slice(0, 117)}...` : line;
}

export async function runCommand(command: string, args: readonly string[], options: CommandOptions): Promise<void> {
  await mkdir(dirname(options.logPath), { recursive: true });
  const log = createWriteStream(options.logPath, { flags: 'a' });
  log.write(`\n$ ${command} ${args.join(' ')}\n`);
  const started = Date.now();
  options.onProgress({ server: options.server, message: `${options.label}: started (log ${options.logPath})` });

  const exit = await new Promise<{ code: number | null; error?: Error }>((resolve) => {
    const child = spawn(command, args, { cwd: options.cwd, env: options.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.pipe(log, { end: false });
    child.stderr.pipe(log, { end: false });
    const ticker = setInterval(() => {
      void tailFile(options.logPath, 1).then((tail) => {
        options.onProgress({
          server: options.server,
          message: `${options.label}: ${formatElapsed(Date.now() - started)} elapsed; ${lastLine(tail)}`,
        });
      });
    }, TICK_MS);
    child.on('error', (error) => {
      clearInterval(ticker);
      resolve({ code: null, error });
    });
    child.on('close', (code) => {
      clearInterval(ticker);
      resolve({ code });
    });
  });
  await new Promise<void>((resolve) => log.end(resolve));

  const elapsed = formatElapsed(Date.now() - started);
  if (exit.error !== undefined) {
    return failWithLog(`${options.label}: could not run ${command}: ${exit.error.message}`, options.logPath);
  }
  if (exit.code !== 0) {
    return failWithLog(`${options.label}: failed with exit code ${exit.code} after ${elapsed}`, options.logPath);
  }
  options.onProgress({ server: options.server, message: `${options.label}: done in ${elapsed}` });
}

import { createInterface } from 'node:readline/promises';
import type { CliIo } from './deps.ts';
import type { Io } from './command.ts';

/** Asks on the controlling terminal; only offered when stdin is one. */
async function ask(question: string): Promise<string> {
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return await rl.question(question);
  } finally {
    rl.close();
  }
}

/**
 * Fills the gaps of a caller's io with the process's own. A caller that passes any io without
 * `prompt` gets no prompt, and without `process` no signal handling: tests and embedders never
 * block on a terminal, or lose their signals to a command, they did not offer.
 */
export function resolveIo(io: CliIo | undefined): Io {
  if (io === undefined) {
    return {
      stdout: process.stdout,
      stderr: process.stderr,
      prompt: process.stdin.isTTY ? ask : undefined,
      env: process.env,
      now: Date.now,
      fetch: globalThis.fetch,
      process,
    };
  }
  return {
    stdout: io.stdout,
    stderr: io.stderr,
    prompt: io.prompt,
    env: io.env ?? process.env,
    now: io.now ?? Date.now,
    fetch: io.fetch ?? globalThis.fetch,
    process: io.process,
  };
}

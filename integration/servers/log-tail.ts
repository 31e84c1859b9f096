// Failures must show the server's own words, not just "timed out".
import { readFile } from 'node:fs/promises';

export const TAIL_LINES = 40;

export async function tailFile(path: string, lines = TAIL_LINES): Promise<string> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    return `(no log at ${path})`;
  }
  const all = text.trimEnd().split('\n');
  return all.slice(-lines).join('\n');
}

export class ServerError extends Error {
  constructor(message: string, logPath: string, tail: string) {
    super(`${message}\n--- last lines of ${logPath} ---\n${tail}\n--- end of log ---`);
    this.name = 'ServerError';
  }
}

export async function failWithLog(message: string, logPath: string): Promise<never> {
  throw new ServerError(message, logPath, await tailFile(logPath));
}

import { parseArgs } from 'node:util';
import type { ParseArgsConfig } from 'node:util';
import { BridgeError } from '../errors/index.ts';

export type OptionSpecs = NonNullable<ParseArgsConfig['options']>;
export type Values = Readonly<Record<string, string | boolean | undefined>>;

export interface Parsed {
  readonly values: Values;
  readonly positionals: readonly string[];
}

export function usageError(message: string, command?: string): BridgeError {
  const hint = command === undefined ? 'isthmus --help' : `isthmus ${command} --help`;
  return new BridgeError('ISTHMUS_USAGE', `${message} (see ${hint})`);
}

/** node:util parseArgs, strict, with its errors turned into usage errors naming the command. */
export function parseCommandArgs(command: string, args: readonly string[], options: OptionSpecs, maxPositionals: number): Parsed {
  let parsed: { values: Record<string, unknown>; positionals: string[] };
  try {
    parsed = parseArgs({ args: [...args], options, allowPositionals: true, strict: true });
  } catch (err) {
    // Node appends a long hint about `--` to unknown-option errors; the first sentence is the point.
    const message = err instanceof Error ? err.message.split(/\n|\. To specify/)[0] ?? err.message : String(err);
    throw usageError(message, command);
  }
  if (parsed.positionals.length > maxPositionals) {
    const extra = parsed.positionals.slice(maxPositionals).join(' ');
    throw usageError(`unexpected argument${parsed.positionals.length - maxPositionals > 1 ? 's' : ''}: ${extra}`, command);
  }
  return { values: parsed.values as Values, positionals: parsed.positionals };
}

export function stringFlag(values: Values, name: string): string | undefined {
  const v = values[name];
  return typeof v === 'string' ? v : undefined;
}

export function requiredFlag(values: Values, name: string, command: string): string {
  const v = stringFlag(values, name);
  if (v === undefined || v === '') throw usageError(`--${name} is required`, command);
  return v;
}

/** `--output text|json`. */
export function outputFormat(values: Values, command: string): 'text' | 'json' {
  const v = stringFlag(values, 'output') ?? 'text';
  if (v !== 'text' && v !== 'json') throw usageError(`--output must be "text" or "json", got "${v}"`, command);
  return v;
}

const UNITS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** `500ms`, `30s`, `2m`, `1h`, or a bare number of seconds → milliseconds. */
export function parseDuration(text: string): number | undefined {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(text.trim());
  if (m === null) return undefined;
  const unit = UNITS[m[2] ?? 's'] ?? 1000;
  return Math.round(Number(m[1]) * unit);
}

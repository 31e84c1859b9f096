import { LineCounter, parseDocument } from 'yaml';
import type { Document } from 'yaml';
import { BridgeError } from '../../errors/index.ts';
import { errnoOf, readLimited } from './read-limited.ts';

/**
 * A bridge config is a few KB; 1 MiB leaves room for thousands of routes and weights while
 * refusing the runaway or hostile file that would take the parser tens of seconds and
 * gigabytes (an 18 MB file did) before validation could say anything.
 */
export const MAX_CONFIG_BYTES = 1024 * 1024;

/**
 * Alias expansions allowed while turning the YAML into data (the `yaml` package counts each
 * alias times the aliases inside what it points at). A few anchors shared between routes stay
 * far below; a "billion laughs" file of nested aliases is refused instead of expanded.
 */
export const MAX_ALIAS_COUNT = 100;

export interface YamlConfig {
  readonly doc: Document;
  readonly lines: LineCounter;
  readonly data: unknown;
}

/** Reads the config file under the size limit. Throws ISTHMUS_CONFIG_UNREADABLE naming the file. */
export function readConfigText(path: string): string {
  let text: string | undefined;
  try {
    text = readLimited(path, MAX_CONFIG_BYTES);
  } catch (err) {
    const reason = errnoOf(err);
    throw unreadable(path, `cannot read config file "${path}" (${reason})`, reason, err);
  }
  if (text === undefined) throw tooLarge(path);
  return text;
}

/** YAML text → data, with the size and alias limits. Throws ISTHMUS_CONFIG_UNREADABLE naming `source`. */
export function parseYaml(text: string, source: string): YamlConfig {
  if (Buffer.byteLength(text, 'utf8') > MAX_CONFIG_BYTES) throw tooLarge(source);
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  const yamlError = doc.errors[0];
  if (yamlError !== undefined) {
    const line = lines.linePos(yamlError.pos[0]).line;
    throw unreadable(source, `${source} is not valid YAML at line ${line}: ${yamlError.message.split('\n')[0] ?? ''}`, 'yaml', undefined, line);
  }
  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
  } catch (err) {
    // The yaml package signals an alias bomb (and an alias to a missing anchor) with a ReferenceError.
    const why = err instanceof Error ? err.message : String(err);
    const bomb = /alias count/i.test(why);
    const message = bomb
      ? `${source} expands YAML aliases more than ${MAX_ALIAS_COUNT} times; refused as a resource-exhaustion risk (write the values out, or share fewer anchors)`
      : `${source} cannot be read as data: ${why}`;
    throw unreadable(source, message, bomb ? 'aliases' : 'yaml', err);
  }
  return { doc, lines, data };
}

function tooLarge(source: string): BridgeError {
  return unreadable(source, `${source} is larger than ${MAX_CONFIG_BYTES / 1024} KiB; a bridge config is a few KB, so this is not one`, 'too large');
}

function unreadable(file: string, message: string, reason: string, cause?: unknown, line?: number): BridgeError {
  return new BridgeError('ISTHMUS_CONFIG_UNREADABLE', message, {
    ...(cause === undefined ? {} : { cause }),
    terminal: true,
    details: { file, reason, ...(line === undefined ? {} : { line }) },
  });
}

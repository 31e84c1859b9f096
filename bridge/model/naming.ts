import { createHash } from 'node:crypto';

const MAX_LABEL = 63;
const HASH_LEN = 6;

/**
 * Converts a registry name to a DNS-1035 label (Kubernetes Service names): lowercase, `[a-z0-9-]`,
 * starting with a letter, ending alphanumeric, at most 63 characters. Conversion is deterministic;
 * when characters were replaced or the name truncated, a short hash of the original is appended
 * so `a.b` and `a_b` do not silently become the same name.
 */
export function toDns1035(original: string): string {
  let name = original.toLowerCase().replace(/[^a-z0-9-]/g, '-').replace(/-+/g, '-');
  name = name.replace(/^[^a-z]+/, '').replace(/-+$/, '');
  const lossless = name === original;
  if (lossless && name.length > 0 && name.length <= MAX_LABEL) return name;
  const suffix = shortHash(original);
  const room = MAX_LABEL - HASH_LEN - 1;
  const stem = name.slice(0, room).replace(/-+$/, '');
  return stem.length === 0 ? `s-${suffix}` : `${stem}-${suffix}`;
}

export function isDns1035(name: string): boolean {
  return name.length <= MAX_LABEL && /^[a-z]([-a-z0-9]*[a-z0-9])?$/.test(name);
}

function shortHash(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, HASH_LEN);
}

/** Result of claiming a converted name: either it is ours, or someone else holds it. */
export type NameClaim = { readonly ok: true; readonly name: string } | { readonly ok: false; readonly name: string; readonly heldBy: string };

/**
 * Tracks which original name holds each converted name, so two originals that convert to the
 * same label are reported as a collision instead of being merged into one service.
 */
export class NameTable {
  readonly #holders = new Map<string, string>();

  claim(original: string, convert: (s: string) => string = toDns1035): NameClaim {
    const name = convert(original);
    const holder = this.#holders.get(name);
    if (holder !== undefined && holder !== original) return { ok: false, name, heldBy: holder };
    this.#holders.set(name, original);
    return { ok: true, name };
  }

  release(original: string, convert: (s: string) => string = toDns1035): void {
    const name = convert(original);
    if (this.#holders.get(name) === original) this.#holders.delete(name);
  }
}

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ERROR_CODES } from './codes.ts';

describe('error catalogue', () => {
  it('documents exactly the codes in codes.ts', () => {
    const doc = readFileSync(new URL('./errors.md', import.meta.url), 'utf8');
    const documented = [...doc.matchAll(/^\| `(ISTHMUS_[A-Z_]+)` \|/gm)].map((m) => m[1]);
    expect(documented.sort()).toEqual(Object.keys(ERROR_CODES).sort());
  });
});

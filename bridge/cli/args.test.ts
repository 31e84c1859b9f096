import { describe, expect, it } from 'vitest';
import { parseDuration } from './args.ts';
import { age, table } from './table.ts';

describe('parseDuration', () => {
  it.each([
    ['500ms', 500],
    ['30s', 30_000],
    ['2m', 120_000],
    ['1h', 3_600_000],
    ['45', 45_000],
    ['1.5s', 1_500],
  ])('%s → %d ms', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it.each(['', 'soon', '10 minutes', '-5s'])('rejects %j', (text) => {
    expect(parseDuration(text)).toBeUndefined();
  });
});

describe('table and age', () => {
  it('aligns columns without padding the last one', () => {
    expect(table(['A', 'BB'], [['xxx', 'y'], ['z', '']])).toBe('A    BB\nxxx  y\nz\n');
  });

  it('shortens ages', () => {
    expect([0, 59_999, 61_000, 3_600_000, 90_061_000].map(age)).toEqual(['0s', '59s', '1m1s', '1h', '1d1h']);
  });
});

import { describe, expect, it } from 'vitest';
import { BridgeError } from '../errors/index.ts';
import { DEFAULT_WAIT_MS, MAX_WAIT_MS, parseBool, parseDuration, parseFilters, parseLastEventId, parseWatch } from './params.ts';

describe('parseDuration', () => {
  it.each([
    ['500ms', 500],
    ['10s', 10_000],
    ['1.5s', 1_500],
    ['2m', 120_000],
    ['1h', 3_600_000],
    ['0s', 0],
  ])('%s = %i ms', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it.each(['abc', '10', '', '-1s', '10 s', '1d', 's'])('refuses %j with ISTHMUS_USAGE', (text) => {
    expect(() => parseDuration(text)).toThrow(BridgeError);
    expect(() => parseDuration(text)).toThrow(/is not a duration/);
  });
});

describe('parseWatch', () => {
  it('is immediate without an index or with index 0', () => {
    expect(parseWatch({})).toBeUndefined();
    expect(parseWatch({ wait: '10s' })).toBeUndefined();
    expect(parseWatch({ index: '0', wait: '10s' })).toBeUndefined();
  });

  it('defaults the wait and clamps it to the maximum', () => {
    expect(parseWatch({ index: '7' })).toEqual({ index: 7, waitMs: DEFAULT_WAIT_MS });
    expect(parseWatch({ index: '7', wait: '1h' })).toEqual({ index: 7, waitMs: MAX_WAIT_MS });
  });

  it('still validates wait when there is no index, so a typo is not silently ignored', () => {
    expect(() => parseWatch({ wait: 'soon' })).toThrow(/wait="soon"/);
  });

  it.each(['-1', '1.5', 'x', '99999999999999999'])('refuses index=%s', (index) => {
    expect(() => parseWatch({ index })).toThrow(/must be a non-negative integer/);
  });
});

describe('filters and flags', () => {
  it('parses booleans strictly', () => {
    expect(parseBool('true', 'healthy')).toBe(true);
    expect(parseBool('0', 'healthy')).toBe(false);
    expect(() => parseBool('maybe', 'healthy')).toThrow('healthy="maybe" must be true or false');
  });

  it('builds filters, leaving absent ones out', () => {
    expect(parseFilters({})).toEqual({ healthy: false, mesh: false });
    expect(parseFilters({ healthy: 'true', origin: 'nacos', zone: 'a', other: 'x' })).toEqual({ healthy: true, mesh: false, origin: 'nacos', zone: 'a' });
    expect(() => parseFilters({ origin: ['a', 'b'] })).toThrow(/given 2 times/);
  });

  it('reads Last-Event-ID leniently', () => {
    expect(parseLastEventId('42')).toBe(42);
    expect(parseLastEventId(' 42 ')).toBe(42);
    expect(parseLastEventId('x')).toBeUndefined();
    expect(parseLastEventId(undefined)).toBeUndefined();
  });
});

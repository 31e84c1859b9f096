import { describe, expect, it } from 'vitest';
import { DEFAULT_WATCH_LIMITS, nameProblem, watchLimits, watchLimitsFromConfig } from './limits.ts';

describe('watch limits', () => {
  it('takes the config units (MiB, seconds) and defaults the rest', () => {
    expect(watchLimits(watchLimitsFromConfig({ maxBufferedMiB: 8, slowConsumerSeconds: 2.5 }))).toEqual({
      maxWatchStreams: DEFAULT_WATCH_LIMITS.maxWatchStreams,
      maxBufferedBytes: 8 * 1024 * 1024,
      slowConsumerMs: 2_500,
    });
    expect(watchLimits(watchLimitsFromConfig(undefined))).toEqual(DEFAULT_WATCH_LIMITS);
  });

  it('refuses empty and over-long names without echoing them', () => {
    expect(nameProblem('name', '')).toBe('name must not be empty');
    expect(nameProblem('namespace', 'a'.repeat(512))).toBeUndefined();
    expect(nameProblem('namespace', 'a'.repeat(100_000))).toBe('namespace is 100000 characters long; at most 512 are accepted');
  });
});

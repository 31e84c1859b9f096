import { describe, expect, it } from 'vitest';
import { consoleSession, readCookie, SESSION_COOKIE } from './console-session.ts';

describe('console session cookie', () => {
  const session = consoleSession('s3cret-token', { secure: false });
  const cookie = (session.setCookie().split(';')[0] ?? '');

  it('is HttpOnly, SameSite=Strict, Path=/, and does not contain the token', () => {
    const set = session.setCookie();
    expect(set).toMatch(new RegExp(`^${SESSION_COOKIE}=[A-Za-z0-9_-]{43}; Path=/; HttpOnly; SameSite=Strict$`));
    expect(set).not.toContain('s3cret-token');
    expect(consoleSession('s3cret-token', { secure: true }).setCookie()).toMatch(/; Secure$/);
  });

  it('accepts its own cookie among others, and nothing else', () => {
    expect(session.cookieValid(`a=1; ${cookie}; b=2`)).toBe(true);
    expect(session.cookieValid(undefined)).toBe(false);
    expect(session.cookieValid(`${SESSION_COOKIE}=`)).toBe(false);
    expect(session.cookieValid(`${SESSION_COOKIE}=s3cret-token`)).toBe(false);
    // A rotated token invalidates every session.
    expect(consoleSession('other-token', { secure: false }).cookieValid(cookie)).toBe(false);
  });

  it('checks the login token', () => {
    expect(session.tokenMatches('s3cret-token')).toBe(true);
    expect(session.tokenMatches('s3cret-toke')).toBe(false);
    expect(session.tokenMatches('')).toBe(false);
  });

  it('clears with Max-Age=0', () => {
    expect(session.clearCookie()).toMatch(new RegExp(`^${SESSION_COOKIE}=; Max-Age=0; Path=/`));
  });

  it('reads a cookie by exact name', () => {
    expect(readCookie('x_isthmus_console=1; isthmus_console=2', 'isthmus_console')).toBe('2');
    expect(readCookie('novalue; k = v ', 'k')).toBe('v');
  });
});

import { createHmac, timingSafeEqual } from 'node:crypto';

/** The console's session cookie; `__Host-` would demand Secure, which plain-HTTP resolvers lack. */
export const SESSION_COOKIE = 'isthmus_console';

/**
 * The console's read-only session. A browser cannot put a bearer token on a page navigation or
 * an EventSource, so after `POST /ui/login` with the token the resolver sets a cookie, and GET
 * routes accept it as well as the header.
 *
 * The cookie does not hold the token: it holds an HMAC of a fixed label keyed by the token. It
 * proves the user knew the token, is the same on every replica and across restarts (nothing to
 * store), stops working when the token is rotated, and cannot be replayed as a bearer token to
 * change weights. It is HttpOnly (page scripts never see it) and SameSite=Strict (other sites'
 * pages cannot make the browser send it).
 */
export interface ConsoleSession {
  /** Constant-time check of the token a login form sent. */
  readonly tokenMatches: (token: string) => boolean;
  /** True when the request's Cookie header carries a valid session. */
  readonly cookieValid: (cookieHeader: string | undefined) => boolean;
  /** Set-Cookie value for a successful login. */
  readonly setCookie: () => string;
  /** Set-Cookie value that removes the session. */
  readonly clearCookie: () => string;
}

export function consoleSession(token: string, options: { secure: boolean }): ConsoleSession {
  const mac = (text: string): Buffer => createHmac('sha256', token).update(text, 'utf8').digest();
  const value = mac('isthmus console session v1').toString('base64url');
  // Compared as MACs under the same key: equal length always, and nothing about the token leaks.
  const expectedToken = mac(`token:${token}`);
  const expectedValue = mac(`cookie:${value}`);
  const attributes = `Path=/; HttpOnly; SameSite=Strict${options.secure ? '; Secure' : ''}`;
  return {
    tokenMatches: (candidate) => timingSafeEqual(mac(`token:${candidate}`), expectedToken),
    cookieValid: (header) => {
      const got = readCookie(header, SESSION_COOKIE);
      return got !== undefined && timingSafeEqual(mac(`cookie:${got}`), expectedValue);
    },
    setCookie: () => `${SESSION_COOKIE}=${value}; ${attributes}`,
    clearCookie: () => `${SESSION_COOKIE}=; Max-Age=0; ${attributes}`,
  };
}

/** One cookie's value from a Cookie header (RFC 6265 §5.4 form: `a=1; b=2`). */
export function readCookie(header: string | undefined, name: string): string | undefined {
  if (header === undefined) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    if (part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

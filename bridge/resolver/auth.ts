import { createHash, timingSafeEqual } from 'node:crypto';
import { BridgeError } from '../errors/index.ts';

/**
 * Checks an `Authorization` header against the configured bearer token in constant time. Both
 * sides are hashed first so the comparison also hides the token's length (timingSafeEqual needs
 * equal lengths and would otherwise leak it by failing fast).
 */
export function bearerChecker(token: string): (header: string | undefined) => boolean {
  if (token.trim().length === 0) {
    throw new BridgeError('ISTHMUS_CONFIG_INVALID', 'resolver auth token is empty; an empty token would let anyone in', { terminal: true });
  }
  const expected = digest(token);
  return (header) => {
    if (header === undefined) return false;
    // The scheme is case-insensitive (RFC 7235 §2.1); the token is not.
    const m = /^bearer +(\S+)\s*$/i.exec(header);
    if (m?.[1] === undefined) return false;
    return timingSafeEqual(digest(m[1]), expected);
  };
}

function digest(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}

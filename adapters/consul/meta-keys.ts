/**
 * Consul Meta keys must match [A-Za-z0-9_-]{1,128} and must not start with `consul-`; model
 * metadata keys (Kubernetes labels like `app.kubernetes.io/name`) often do not. Keys are escaped
 * reversibly rather than dropped, so an exported endpoint's metadata round-trips exactly:
 * every character outside [A-Za-z0-9-] becomes `_` + two hex digits per UTF-8 byte (`_` itself
 * is `_5f`), and a leading `consul-` / `isthmus-` / `external-source` gets its first letter
 * escaped so user keys can never pose as reserved or Isthmus keys.
 */
export function encodeMetaKey(key: string): string {
  let out = '';
  for (const byte of Buffer.from(key, 'utf8')) {
    const ch = String.fromCharCode(byte);
    out += /[A-Za-z0-9-]/.test(ch) ? ch : `_${byte.toString(16).padStart(2, '0')}`;
  }
  if (/^(consul-|isthmus-|external-source$)/i.test(out)) out = `_${out.charCodeAt(0).toString(16)}${out.slice(1)}`;
  return out;
}

export function decodeMetaKey(key: string): string {
  const bytes: number[] = [];
  for (let i = 0; i < key.length; i++) {
    const ch = key.charAt(i);
    if (ch === '_' && /^[0-9a-f]{2}$/i.test(key.slice(i + 1, i + 3))) {
      bytes.push(parseInt(key.slice(i + 1, i + 3), 16));
      i += 2;
    } else {
      bytes.push(ch.charCodeAt(0));
    }
  }
  return Buffer.from(bytes).toString('utf8');
}

export const CONSUL_META_LIMITS = { keys: 64, keyLength: 128, valueLength: 512 } as const;

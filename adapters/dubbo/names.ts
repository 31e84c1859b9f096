import { MAX_NAME_LENGTH } from '../../bridge/model/index.ts';

/**
 * Which names the sink can write. An application and an interface become raw znode names
 * (`/services/<app>`, `<root>/metadata/<app>`, `<root>/mapping/<iface>`: Dubbo reads them
 * unencoded) and raw URL parameter values (Dubbo does not decode them), so a name ZooKeeper
 * refuses, or one that would split a path or inject a URL parameter, is refused here instead
 * of failing at write time or being read back as something else.
 */

// ZooKeeper's PathUtils refuses these code units in any path; surrogates include every
// character outside the BMP.
// eslint-disable-next-line no-control-regex
const ZK_FORBIDDEN = /[\u0000-\u001f\u007f-\u009f\ud800-\uf8ff\ufff0-\uffff]/;
/** Characters that end a URL parameter, a path segment or one of our comma/colon lists. */
const URL_BREAKING = /[/&=?#,\s]/;

/** Why `name` cannot be an application or interface name in ZooKeeper and a Dubbo URL. */
export function segmentProblem(what: string, name: string): string | undefined {
  if (name === '') return `${what} is empty`;
  if (name.length > MAX_NAME_LENGTH) return `${what} is ${name.length} characters (limit ${MAX_NAME_LENGTH})`;
  if (name === '.' || name === '..') return `${what} ${JSON.stringify(name)} is not a znode name`;
  if (ZK_FORBIDDEN.test(name)) return `${what} ${JSON.stringify(name.slice(0, 80))} holds a character ZooKeeper refuses`;
  if (URL_BREAKING.test(name)) return `${what} ${JSON.stringify(name.slice(0, 80))} holds "/", "&", "=", "?", "#", "," or a space`;
  return undefined;
}

/** Why `value` cannot be a raw Dubbo URL parameter value (version, group, methods); empty is fine. */
export function paramProblem(what: string, value: string): string | undefined {
  if (value.length > MAX_NAME_LENGTH) return `${what} is ${value.length} characters (limit ${MAX_NAME_LENGTH})`;
  // eslint-disable-next-line no-control-regex
  if (/[&=?#\s\u0000-\u001f\u007f]/.test(value)) return `${what} ${JSON.stringify(value.slice(0, 80))} holds "&", "=", "?", "#", a space or a control character`;
  return undefined;
}

/** A URL scheme Dubbo can parse. */
export function protocolProblem(value: string): string | undefined {
  return /^[A-Za-z][A-Za-z0-9+.-]{0,31}$/.test(value) ? undefined : `protocol ${JSON.stringify(value.slice(0, 40))} is not a URL scheme`;
}

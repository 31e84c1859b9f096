/**
 * Every error code Isthmus raises, in one place. Codes are stable: scripts and alerts match on
 * them, so a code is never renamed or reused. `errors.md` beside this file documents each one and
 * a unit test keeps the two in step.
 */
export const ERROR_CODES = {
  ISTHMUS_CONFIG_INVALID: 'The configuration file failed validation; every problem is listed with its path.',
  ISTHMUS_CONFIG_UNREADABLE: 'The configuration file or a file it points to could not be read or parsed.',
  ISTHMUS_REGISTRY_UNREACHABLE: 'A registry did not answer or refused the connection; the engine freezes and retries.',
  ISTHMUS_REGISTRY_AUTH: 'A registry rejected our credentials or token; nothing is deleted while this lasts.',
  ISTHMUS_REGISTRY_CONFLICT: 'A write lost a race (version conflict); retried after re-reading.',
  ISTHMUS_REGISTRY_REJECTED: 'A registry refused a write as invalid; the record is quarantined.',
  ISTHMUS_RECORD_INVALID: 'A record could not be converted to the model (bad address, port, name…); it is quarantined.',
  ISTHMUS_NAME_COLLISION: 'Two source names convert to the same target name; the later one is not synced.',
  ISTHMUS_NOT_OWNED: 'A write would have touched a record this bridge does not own; refused.',
  ISTHMUS_UNKNOWN_REGISTRY: 'A route or command names a registry that is not configured.',
  ISTHMUS_SHUTTING_DOWN: 'The operation was refused because the bridge is shutting down.',
  ISTHMUS_NOT_FOUND: 'The requested service (or resolver path) is not in the catalog.',
  ISTHMUS_USAGE: 'The command line or a resolver request parameter was wrong; see --help or the message.',
  ISTHMUS_RESOLVER_UNREACHABLE: 'The CLI could not reach the Isthmus resolver HTTP API (status, resolve).',
  ISTHMUS_UNAUTHENTICATED: 'A resolver /v1 request carried no bearer token or the wrong one.',
  ISTHMUS_FORBIDDEN: 'A resolver write (PUT/DELETE /v1/weights) was refused: the resolver has no token configured.',
  ISTHMUS_TOO_MANY_WATCHES: 'A new watch was refused: the resolver already serves its maximum number of watch streams.',
  ISTHMUS_MIGRATION_UNAVAILABLE: 'A ServiceMigration could not be written: the CRD is not installed or the bridge may not write it.',
  ISTHMUS_INTERNAL: 'An unexpected failure inside Isthmus (a bug); the logs carry the cause under the request id.',
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

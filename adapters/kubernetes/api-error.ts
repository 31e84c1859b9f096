// How an API server answer that is not 2xx becomes a BridgeError. Kept apart from the transport so
// the mapping (which callers and alerts rely on) can be read and tested on its own.
import { BridgeError } from '../../bridge/errors/index.ts';

/** A non-2xx answer: the status and the body text (usually a Status object, sometimes plain text). */
export class ApiError extends Error {
  readonly statusCode: number;
  readonly body: string;

  constructor(statusCode: number, body: string) {
    super(`HTTP ${statusCode}`);
    this.name = 'ApiError';
    this.statusCode = statusCode;
    this.body = body;
  }
}

/** HTTP status of a failed call or watch, when there was an HTTP answer. */
export function statusOf(err: unknown): number | undefined {
  if (err instanceof ApiError) return err.statusCode;
  if (typeof err === 'object' && err !== null) {
    const e = err as { statusCode?: unknown; code?: unknown };
    if (typeof e.statusCode === 'number') return e.statusCode;
    if (typeof e.code === 'number') return e.code;
  }
  return undefined;
}

export function toBridgeError(what: string, err: unknown): BridgeError {
  if (err instanceof BridgeError) return err;
  const status = statusOf(err);
  const reason = apiMessage(err);
  const msg = `kubernetes: ${what}: ${reason}`;
  const details = status === undefined ? {} : status === 404 ? { status, notFound: notFoundOf(err) } : { status };
  if (status === 401 || status === 403) return new BridgeError('ISTHMUS_REGISTRY_AUTH', msg, { cause: err, details });
  if (status === 409) return new BridgeError('ISTHMUS_REGISTRY_CONFLICT', msg, { cause: err, details });
  if (status === 400 || status === 422) return new BridgeError('ISTHMUS_REGISTRY_REJECTED', msg, { cause: err, details, terminal: true });
  // A write into a namespace that does not exist (yet): refused, but worth retrying later.
  if (status === 404) return new BridgeError('ISTHMUS_REGISTRY_REJECTED', msg, { cause: err, details });
  return new BridgeError('ISTHMUS_REGISTRY_UNREACHABLE', msg, { cause: err, details });
}

function apiMessage(err: unknown): string {
  if (!(err instanceof ApiError)) return err instanceof Error ? err.message : String(err);
  const body = bodyOf(err);
  if (body === undefined) return `HTTP ${err.statusCode}`;
  const message = body.status?.message;
  return `HTTP ${err.statusCode}: ${typeof message === 'string' ? message : body.text.slice(0, 300)}`;
}

// What a 404 was about (`details.notFound`): `resource` = the type is not served (CRD not installed;
// a plain "404 page not found", or a Status with empty details). A missing namespace/object is named.
function notFoundOf(err: unknown): 'resource' | 'namespace' | 'object' {
  const details = bodyOf(err)?.status?.details;
  if (details?.kind === 'namespaces') return 'namespace';
  return typeof details?.name === 'string' && details.name !== '' ? 'object' : 'resource';
}

/** The answer's text, and the API server's Status object when the text is one. */
function bodyOf(err: unknown): { text: string; status?: { message?: unknown; details?: { kind?: unknown; name?: unknown } } } | undefined {
  if (!(err instanceof ApiError)) return undefined;
  try {
    const parsed: unknown = JSON.parse(err.body);
    return typeof parsed === 'object' && parsed !== null ? { text: err.body, status: parsed } : { text: err.body };
  } catch {
    return { text: err.body }; // not JSON: "404 page not found" from an unknown API group
  }
}

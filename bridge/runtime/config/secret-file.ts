import { BridgeError } from '../../errors/index.ts';
import { errnoOf, readLimited } from './read-limited.ts';

/** Tokens, passwords and PEM files are a few KB; anything far larger is the wrong file. */
export const MAX_SECRET_BYTES = 1024 * 1024;

type Outcome = { readonly secret: string } | { readonly problem: string; readonly reason: string; readonly cause?: unknown };

/**
 * The one rule for every file that holds a secret (resolver token, registry tokens and
 * passwords, TLS material): it exists, can be read, and holds something besides whitespace.
 * Surrounding whitespace is dropped because editors and `echo` add line breaks and no registry
 * wants them. A whitespace-only file is refused rather than read as "no credentials": an
 * empty token silently meaning anonymous access is how a bridge ends up with the wrong rights.
 */
function inspect(path: string): Outcome {
  let text: string | undefined;
  try {
    text = readLimited(path, MAX_SECRET_BYTES);
  } catch (err) {
    const reason = errnoOf(err);
    return { problem: `cannot read secret file "${path}" (${reason})`, reason, cause: err };
  }
  if (text === undefined) return { problem: `secret file "${path}" is larger than ${MAX_SECRET_BYTES} bytes`, reason: 'too large' };
  const secret = text.trim();
  if (secret === '') return { problem: `secret file "${path}" is empty${text === '' ? '' : ' (only whitespace)'}`, reason: 'empty' };
  return { secret };
}

/** Why `path` fails the secret-file rule, or undefined when it passes. Never includes content. */
export function secretFileProblem(path: string): string | undefined {
  const outcome = inspect(path);
  return 'problem' in outcome ? outcome.problem : undefined;
}

/**
 * Reads a token or password file (Kubernetes secret volume, systemd credential) under the rule
 * above. Errors name the file and the reason, never any content.
 */
export function readSecretFile(path: string): string {
  const outcome = inspect(path);
  if ('secret' in outcome) return outcome.secret;
  throw new BridgeError('ISTHMUS_CONFIG_UNREADABLE', outcome.problem, {
    ...(outcome.cause === undefined ? {} : { cause: outcome.cause }),
    terminal: true,
    details: { file: path, reason: outcome.reason },
  });
}

import { readFileSync } from 'node:fs';
import { BridgeError } from '../../errors/index.ts';

/**
 * Reads a token or password file (Kubernetes secret volume, systemd credential). Trailing line
 * breaks are dropped because editors and `echo` add them and no registry wants them. Errors
 * name the file and the reason, never any content.
 */
export function readSecretFile(path: string): string {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const reason = (err as NodeJS.ErrnoException).code ?? 'read failed';
    throw new BridgeError('ISTHMUS_CONFIG_UNREADABLE', `cannot read secret file "${path}" (${reason})`, {
      cause: err,
      terminal: true,
      details: { file: path, reason },
    });
  }
  const secret = text.replace(/(\r?\n)+$/, '');
  if (secret === '') {
    throw new BridgeError('ISTHMUS_CONFIG_UNREADABLE', `secret file "${path}" is empty`, {
      terminal: true,
      details: { file: path, reason: 'empty' },
    });
  }
  return secret;
}

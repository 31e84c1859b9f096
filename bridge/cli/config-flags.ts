import { loadConfig, LOG_LEVELS } from '../runtime/config/index.ts';
import type { Config, LogLevel } from '../runtime/config/index.ts';
import { createLogger } from '../runtime/logger.ts';
import type { Logger } from '../runtime/logger.ts';
import { requiredFlag, stringFlag, usageError } from './args.ts';
import type { Values } from './args.ts';
import type { Io } from './command.ts';
import type { CliDeps } from './deps.ts';

export const CONFIG_OPTIONS = {
  config: { type: 'string', short: 'c' },
  'log-level': { type: 'string' },
} as const;

export const CONFIG_HELP = `  -c, --config FILE    the bridge's YAML config (required)
  --log-level LEVEL    ${LOG_LEVELS.join('|')}; overrides log.level and $ISTHMUS_LOG_LEVEL`;

function logLevelFlag(values: Values, command: string): LogLevel | undefined {
  const level = stringFlag(values, 'log-level');
  if (level === undefined) return undefined;
  if (!(LOG_LEVELS as readonly string[]).includes(level)) {
    throw usageError(`--log-level must be one of ${LOG_LEVELS.join(', ')}, got "${level}"`, command);
  }
  return level as LogLevel;
}

/** Loads --config with the env overrides, --log-level winning over both file and env. */
export function configFrom(values: Values, command: string, deps: CliDeps, io: Io): Config {
  const path = requiredFlag(values, 'config', command);
  const level = logLevelFlag(values, command);
  const env = level === undefined ? io.env : { ...io.env, ISTHMUS_LOG_LEVEL: level };
  return loadConfig(path, deps.kinds, { env });
}

/**
 * Logger for one-shot commands (plan, cleanup): to stderr, so stdout stays the command's
 * answer (and valid JSON with --output json), and at warn unless --log-level says otherwise,
 * so adapter chatter does not bury the answer.
 */
export function commandLogger(config: Config, values: Values, command: string, io: Io): Logger {
  return createLogger({
    level: logLevelFlag(values, command) ?? 'warn',
    destination: io.stderr,
    bindings: { bridge: config.bridge.id, command },
  });
}

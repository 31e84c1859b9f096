import { BridgeError } from '../../errors/index.ts';
import { createLogger, flushLogger } from '../../runtime/logger.ts';
import type { Logger } from '../../runtime/logger.ts';
import { parseCommandArgs } from '../args.ts';
import type { Command } from '../command.ts';
import { CONFIG_HELP, CONFIG_OPTIONS, configFrom } from '../config-flags.ts';
import { EXIT } from '../exit-codes.ts';
import { SignalRelay } from '../signal-relay.ts';
import type { TextSink } from '../deps.ts';

export const runCommand: Command = {
  name: 'run',
  summary: 'run the bridge: sync registries and serve the resolver until stopped',
  help: `Usage: isthmus run --config FILE [--log-level LEVEL]

Runs the bridge in the foreground: lists and watches every source registry, keeps every route's
targets in sync, and serves the resolver (HTTP: lookups, status, /livez, /readyz, /metrics;
gRPC if enabled). Logs are JSON lines on stdout.

Before anything starts, the config is checked as \`isthmus validate\` checks it, including every
secret file it names (it must exist, be readable and hold more than whitespace).

Stop it with SIGTERM or SIGINT: readiness fails first, then the resolver, the sync engine and
the leader lease stop, logs are flushed, and the process exits within 25 s. A signal during
start-up stops the bridge as soon as it is up. A second signal exits at once with code 1.
Shutdown never deregisters anything: what the bridge wrote stays until another bridge with the
same bridge.id corrects it or \`isthmus cleanup\` removes it.

Options:
${CONFIG_HELP}
  -h, --help           show this help

Environment (override the file; see \`isthmus validate --help\`):
  ISTHMUS_BRIDGE_ID, ISTHMUS_LOG_LEVEL, ISTHMUS_HTTP_PORT, ISTHMUS_GRPC_PORT

Examples:
  isthmus run --config /etc/isthmus/isthmus.yaml
  ISTHMUS_HTTP_PORT=18080 isthmus run -c ./dev.yaml --log-level debug

Exit codes:
  0  stopped cleanly after a signal
  1  the bridge failed (the last log line says why), or a second signal
  2  bad command line or invalid config, secret files included (nothing was started; a
     supervisor should not restart: systemd's RestartPreventExitStatus=2)
`,
  async run({ args, deps, io }) {
    const { values } = parseCommandArgs('run', args, CONFIG_OPTIONS, 0);
    const config = configFrom(values, 'run', deps, io);
    const logger = createLogger({
      level: config.log.level,
      // Real stdout gets pino's own fast writer; anything else (tests) gets written to directly.
      ...(io.stdout === process.stdout ? {} : { destination: io.stdout }),
      bindings: { bridge: config.bridge.id },
    });
    const stop = new AbortController();
    const relay = io.process === undefined ? undefined : new SignalRelay(io.process, {
      onStop: (signal) => { logger.info({ signal }, 'stop requested while starting; stopping once started'); stop.abort(); },
      onForcedExit: (signal) => { logger.warn({ signal }, 'second signal; exiting now'); },
    });
    try {
      await deps.run(config, { logger, signal: stop.signal, ...(relay === undefined ? {} : { signals: relay }) });
      return EXIT.ok;
    } catch (err) {
      if (isConfigError(err)) return configFailure(err, logger, io.stderr);
      logger.fatal({ err }, 'bridge failed');
      return EXIT.error;
    } finally {
      // The relay is not closed: it must outlive this function, because exiting takes time too
      // (exit handlers flush the logs) and a signal then, with no handler, would still kill
      // the process with 143. The caller exits right after.
      await flushLogger(logger);
    }
  },
};

function isConfigError(err: unknown): err is BridgeError {
  return err instanceof BridgeError && (err.code === 'ISTHMUS_CONFIG_INVALID' || err.code === 'ISTHMUS_CONFIG_UNREADABLE');
}

/**
 * A config mistake found only once the bridge was starting (an adapter's own check, a file
 * changed since the check): still exit 2, so a supervisor does not restart into the same
 * mistake, and a message without a stack trace, since it is the operator's to fix.
 */
function configFailure(err: BridgeError, logger: Logger, stderr: TextSink): number {
  logger.fatal({ code: err.code, ...err.details }, `invalid config: ${err.message}`);
  stderr.write(`error: ${err.message}\n(check it with: isthmus validate --config FILE)\n`);
  return EXIT.usage;
}

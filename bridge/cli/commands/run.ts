import { createLogger, flushLogger } from '../../runtime/logger.ts';
import { parseCommandArgs } from '../args.ts';
import type { Command } from '../command.ts';
import { CONFIG_HELP, CONFIG_OPTIONS, configFrom } from '../config-flags.ts';
import { EXIT } from '../exit-codes.ts';

export const runCommand: Command = {
  name: 'run',
  summary: 'run the bridge: sync registries and serve the resolver until stopped',
  help: `Usage: isthmus run --config FILE [--log-level LEVEL]

Runs the bridge in the foreground: lists and watches every source registry, keeps every route's
targets in sync, and serves the resolver (HTTP: lookups, status, /livez, /readyz, /metrics;
gRPC if enabled). Logs are JSON lines on stdout.

Stop it with SIGTERM or SIGINT: readiness fails first, then the resolver, the sync engine and
the leader lease stop, logs are flushed, and the process exits within 25 s. A second signal
exits at once. Shutdown never deregisters anything: what the bridge wrote stays until another
bridge with the same bridge.id corrects it or \`isthmus cleanup\` removes it.

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
  1  the bridge failed (the last log line says why)
  2  bad command line or invalid config (nothing was started)
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
    try {
      await deps.run(config, { logger });
      return EXIT.ok;
    } catch (err) {
      logger.fatal({ err }, 'bridge failed');
      return EXIT.error;
    } finally {
      await flushLogger(logger);
    }
  },
};

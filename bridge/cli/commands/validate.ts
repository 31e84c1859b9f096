import { BridgeError } from '../../errors/index.ts';
import { ENV_OVERRIDES, MAX_ALIAS_COUNT, MAX_CONFIG_BYTES, formatProblem } from '../../runtime/config/index.ts';
import type { ConfigProblem } from '../../runtime/config/index.ts';
import { outputFormat, parseCommandArgs } from '../args.ts';
import type { Command, CommandContext } from '../command.ts';
import { CONFIG_HELP, CONFIG_OPTIONS, configFrom } from '../config-flags.ts';
import { EXIT } from '../exit-codes.ts';

export const validateCommand: Command = {
  name: 'validate',
  summary: 'check a config file offline and list every problem',
  help: `Usage: isthmus validate --config FILE [--output text|json]

Checks the config file without connecting to anything: YAML syntax, the schema of every
section and of each registry kind's options, unknown keys, and that routes name configured
registries that can be a source (from) or a target (to). On this machine, every secret file
the config names (tokenFile, passwordFile, credentialsFile, TLS files, kubeconfig) must exist,
be readable and hold more than whitespace, and every variable a *Env option names must be set,
exactly as \`isthmus run\` checks before starting. Registry addresses must not carry
credentials (user:password@). The file may be at most ${MAX_CONFIG_BYTES / 1024 / 1024} MiB and expand YAML
aliases at most ${MAX_ALIAS_COUNT} times.

Every problem is listed at once as "path: message (line N)", the path being a JSON pointer
such as /routes/1/to; a problem caused by an environment override says "(from $ISTHMUS_…)"
instead of a line.

Environment overrides are applied before checking, exactly as \`isthmus run\` does:
${Object.entries(ENV_OVERRIDES)
  .map(([name, o]) => `  ${name.padEnd(20)} overrides ${o.path.join('.')}`)
  .join('\n')}

Options:
${CONFIG_HELP}
  -o, --output FORMAT  text (default) or json: { "valid", "problems" | "bridgeId", "routes" }
  -h, --help           show this help

Examples:
  isthmus validate -c /etc/isthmus/isthmus.yaml
  isthmus validate -c isthmus.yaml -o json | jq '.problems[].path'

Exit codes:
  0  the config is valid
  2  the config is invalid or unreadable (problems on stdout), or bad command line
`,
  run: (ctx) => Promise.resolve(validate(ctx)),
};

function validate({ args, deps, io }: CommandContext): number {
  const { values } = parseCommandArgs('validate', args, { ...CONFIG_OPTIONS, output: { type: 'string', short: 'o' } }, 0);
  const format = outputFormat(values, 'validate');
  const print = (text: string) => io.stdout.write(text);
  try {
    const config = configFrom(values, 'validate', deps, io);
    const registries = Object.keys(config.registries).length;
    if (format === 'json') {
      print(`${JSON.stringify({ valid: true, bridgeId: config.bridge.id, registries, routes: config.routes.map((r) => r.id) }, null, 2)}\n`);
    } else {
      print(`config OK: ${registries} ${registries === 1 ? 'registry' : 'registries'}, ${config.routes.length} ${config.routes.length === 1 ? 'route' : 'routes'}\n`);
      for (const r of config.routes) print(`  ${r.id}\n`);
    }
    return EXIT.ok;
  } catch (err) {
    if (!(err instanceof BridgeError) || (err.code !== 'ISTHMUS_CONFIG_INVALID' && err.code !== 'ISTHMUS_CONFIG_UNREADABLE')) throw err;
    const problems = (err.details['problems'] as ConfigProblem[] | undefined) ?? [{ path: '', message: err.message }];
    if (format === 'json') {
      print(`${JSON.stringify({ valid: false, code: err.code, problems }, null, 2)}\n`);
    } else if (err.code === 'ISTHMUS_CONFIG_UNREADABLE') {
      print(`config unreadable: ${err.message}\n`);
    } else {
      print(`config invalid: ${problems.length} ${problems.length === 1 ? 'problem' : 'problems'}\n`);
      for (const p of problems) print(`  ${formatProblem(p)}\n`);
    }
    return EXIT.usage;
  }
}

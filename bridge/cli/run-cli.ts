import { BridgeError } from '../errors/index.ts';
import { formatProblem } from '../runtime/config/index.ts';
import type { ConfigProblem } from '../runtime/config/index.ts';
import type { Command } from './command.ts';
import { cleanupCommand } from './commands/cleanup.ts';
import { planCommand } from './commands/plan.ts';
import { resolveCommand } from './commands/resolve.ts';
import { runCommand } from './commands/run.ts';
import { schemaCommand } from './commands/schema.ts';
import { statusCommand } from './commands/status.ts';
import { validateCommand } from './commands/validate.ts';
import { weightCommand } from './commands/weight.ts';
import type { CliDeps, CliIo, TextSink } from './deps.ts';
import { EXIT } from './exit-codes.ts';
import { resolveIo } from './process-io.ts';

export const COMMANDS: readonly Command[] = [
  runCommand,
  validateCommand,
  planCommand,
  statusCommand,
  resolveCommand,
  weightCommand,
  cleanupCommand,
  schemaCommand,
];

const HELP_FLAGS = new Set(['--help', '-h']);

export function usage(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  return `Usage: isthmus <command> [options]

Isthmus keeps one service catalog across Kubernetes, Nacos, Consul and Dubbo/ZooKeeper, so
services can move between VMs and Kubernetes one at a time while every caller keeps finding them.

Commands:
${COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`).join('\n')}
  ${'help'.padEnd(width)}  show this help, or a command's: isthmus help <command>

Typical first steps:
  isthmus validate -c isthmus.yaml     check the config offline
  isthmus plan -c isthmus.yaml         see what would be written, without writing
  isthmus run -c isthmus.yaml          run the bridge
  isthmus status                       ask the running bridge what it is doing

Run \`isthmus <command> --help\` for a command's options, examples and exit codes.

Exit codes: 0 ok, 1 failed at run time, 2 bad command line or invalid config.
`;
}

/**
 * The `isthmus` command line. Returns the exit code instead of exiting, so the entry file decides
 * when the process ends and tests can call it directly. Never throws: every failure is printed
 * to stderr and mapped to an exit code (EXIT).
 */
export async function runCli(argv: readonly string[], deps: CliDeps, io?: CliIo): Promise<number> {
  const resolved = resolveIo(io);
  const [name, ...args] = argv;
  const out = resolved.stdout;

  if (name === undefined || HELP_FLAGS.has(name)) {
    (name === undefined ? resolved.stderr : out).write(usage());
    return name === undefined ? EXIT.usage : EXIT.ok;
  }
  if (name === 'help') {
    const topic = args[0];
    if (topic === undefined) {
      out.write(usage());
      return EXIT.ok;
    }
    const command = COMMANDS.find((c) => c.name === topic);
    if (command === undefined) return unknownCommand(topic, resolved.stderr);
    out.write(command.help);
    return EXIT.ok;
  }
  const command = COMMANDS.find((c) => c.name === name);
  if (command === undefined) return unknownCommand(name, resolved.stderr);
  if (args.some((a) => HELP_FLAGS.has(a))) {
    out.write(command.help);
    return EXIT.ok;
  }
  try {
    return await command.run({ args, deps, io: resolved });
  } catch (err) {
    return report(err, resolved.stderr);
  }
}

function unknownCommand(name: string, stderr: TextSink): number {
  stderr.write(`error: unknown command "${name}"\n\n${usage()}`);
  return EXIT.usage;
}

function report(err: unknown, stderr: TextSink): number {
  if (!(err instanceof BridgeError)) {
    stderr.write(`error: ${err instanceof Error ? err.message : String(err)}\n`);
    return EXIT.error;
  }
  if (err.code === 'ISTHMUS_CONFIG_INVALID') {
    const problems = (err.details['problems'] as ConfigProblem[] | undefined) ?? [];
    stderr.write(`error: invalid config: ${problems.length} ${problems.length === 1 ? 'problem' : 'problems'}\n`);
    for (const p of problems) stderr.write(`  ${formatProblem(p)}\n`);
    stderr.write('(check it with: isthmus validate --config FILE)\n');
    return EXIT.usage;
  }
  stderr.write(`error: ${err.message}\n`);
  return err.code === 'ISTHMUS_USAGE' || err.code === 'ISTHMUS_CONFIG_UNREADABLE' ? EXIT.usage : EXIT.error;
}

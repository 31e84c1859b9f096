export { runCli, usage, COMMANDS } from './run-cli.ts';
export type { CliDeps, CliIo, TextSink } from './deps.ts';
export { EXIT, type ExitCode } from './exit-codes.ts';
export { parseDuration } from './args.ts';

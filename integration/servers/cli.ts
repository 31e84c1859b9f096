// npm run servers -- up|down|status|provision [names…]
import { SERVER_NAMES, ensureServers, parseServerNames, provisionServers, serverStatus, stopServers } from './index.ts';
import { cacheDir, runDir } from './paths.ts';

const USAGE = `usage: npm run servers -- <up|down|status|provision> [${SERVER_NAMES.join('|')}|all ...]
  provision  install Debian packages, build Go binaries, resolve Maven artifacts (skips what is cached)
  up         provision, then start detached servers (they keep running after this exits)
  down       stop servers started by up (or left behind by a test run)
  status     version, address and state of each server
cache: ${cacheDir()}
run:   ${runDir()}`;

async function main(argv: readonly string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === '-h' || command === '--help') {
    process.stdout.write(`${USAGE}\n`);
    return command === undefined ? 2 : 0;
  }
  const names = parseServerNames(rest);
  switch (command) {
    case 'provision':
      await provisionServers(names);
      return 0;
    case 'up': {
      const result = await ensureServers(names);
      process.stdout.write(`${JSON.stringify(result.connections, null, 2)}\n`);
      return 0;
    }
    case 'down':
      await stopServers(names);
      return 0;
    case 'status': {
      for (const report of await serverStatus(names)) {
        const pids = report.pids.length > 0 ? ` pids ${report.pids.join(',')}` : '';
        process.stdout.write(
          `${report.name.padEnd(11)} ${report.state.padEnd(13)} ${report.version}${report.provisioned ? '' : ' (not provisioned)'}\n` +
            `${''.padEnd(11)} ${report.address}${pids}\n`,
        );
      }
      return 0;
    }
    default:
      process.stderr.write(`unknown command "${command}"\n${USAGE}\n`);
      return 2;
  }
}

try {
  process.exitCode = await main(process.argv.slice(2));
} catch (error) {
  process.stderr.write(`\n${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
}

// `npm run isthmus|servers|demo|…` start their TypeScript entry through this launcher:
//   node --import tsx integration/process/launch.ts <entry.ts> [args…]
// npm runs a script through `sh -c`, and sh passes no signal on, so a supervisor's SIGTERM to
// npm used to orphan the program. The scripts `exec` this launcher (npm's direct child); it
// runs `node --import tsx <entry>` in the same process group (so prompts on the terminal and
// Ctrl-Z keep working) and passes on each signal the child did not get by itself (forward.ts).
import { SignalForwarder } from './forward.ts';
import { LAUNCHED_SIGNALS, isEchoMessage } from './signal-protocol.ts';
import { spawnEntry } from './spawn-entry.ts';

/**
 * How long the launcher waits for the child's report before forwarding a signal. It delays a
 * supervisor's SIGTERM by this much; it must cover the child's report under load.
 */
const FORWARD_WINDOW_MS = 1000;

const [entry, ...args] = process.argv.slice(2);
if (entry === undefined) {
  process.stderr.write('usage: node --import tsx integration/process/launch.ts <entry.ts> [args…]\n');
  process.exit(2);
}

const child = spawnEntry(entry, args, { stdio: ['inherit', 'inherit', 'inherit'] });

const forwarder = new SignalForwarder((signal) => {
  try {
    child.kill(signal);
  } catch {
    // Already gone: its exit is handled below.
  }
}, FORWARD_WINDOW_MS);
const handlers = LAUNCHED_SIGNALS.map((signal) => {
  const handler = (): void => { forwarder.received(signal); };
  process.on(signal, handler);
  return [signal, handler] as const;
});
child.on('message', (message) => {
  if (isEchoMessage(message)) forwarder.reported(message.isthmusSignal);
});
child.on('error', (err) => {
  process.stderr.write(`could not start ${entry}: ${err.message}\n`);
  process.exit(1);
});
child.on('exit', (code, signal) => {
  for (const [s, h] of handlers) process.off(s, h);
  // End the way the child ended, so npm (and the shell) see the same status.
  if (signal !== null) process.kill(process.pid, signal);
  process.exit(code ?? 1);
});

// Loaded with `--import` into the child of launch.ts. It tells the launcher over the IPC channel
// which signals reached this process directly (a terminal's Ctrl-C goes to the whole process
// group), so the launcher forwards only what the child did not already get. Without the report
// a Ctrl-C under `npm run` arrives twice (once from the terminal, once relayed by npm), and the
// bridge reads a second signal as "exit now".
import { ECHO_ENV, LAUNCHED_SIGNALS, type EchoMessage } from './signal-protocol.ts';

const send = process.send?.bind(process);
// Read once and dropped: processes this one spawns (a bridge, build tools) inherit the env,
// and must not report on a channel that is not theirs.
const enabled = process.env[ECHO_ENV] === '1' && send !== undefined;
Reflect.deleteProperty(process.env, ECHO_ENV);

if (enabled) {
  // An open IPC channel would keep the event loop alive; the program decides when it ends.
  process.channel?.unref();
  for (const signal of LAUNCHED_SIGNALS) {
    const report = (): void => {
      const message: EchoMessage = { isthmusSignal: signal };
      if (process.connected) send(message, undefined, undefined, () => undefined);
      // Listening to a signal disables its default action. When nothing else listens, restore it.
      if (process.listenerCount(signal) === 1) {
        process.off(signal, report);
        process.kill(process.pid, signal);
      }
    };
    process.prependListener(signal, report);
  }
  // The launcher was killed outright, so no stop can reach us through it any more: stop as a
  // supervisor would have asked, instead of running on as an orphan.
  process.once('disconnect', () => { process.kill(process.pid, 'SIGTERM'); });
}

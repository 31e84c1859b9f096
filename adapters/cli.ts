#!/usr/bin/env node
// The composition root: the one file that knows both the registry-agnostic core (bridge/) and
// every adapter. It lives beside the adapters so that bridge/ never imports adapters/.
import { cleanupBridge, planBridge, runBridge } from '../bridge/app/index.ts';
import { runCli } from '../bridge/cli/index.ts';
import { ADAPTER_KINDS } from './index.ts';

const code = await runCli(process.argv.slice(2), {
  kinds: ADAPTER_KINDS,
  run: (config, opts) => runBridge(config, ADAPTER_KINDS, opts),
  plan: (config, opts) => planBridge(config, ADAPTER_KINDS, opts),
  cleanup: (config, opts) => cleanupBridge(config, ADAPTER_KINDS, opts),
});
// Exit explicitly: after a clean shutdown a client library may still hold a socket open, and
// the bridge must not linger past its own shutdown sequence.
process.exit(code);

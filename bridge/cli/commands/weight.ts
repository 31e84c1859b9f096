import { parseRef, refKey } from '../../model/index.ts';
import { outputFormat, parseCommandArgs, usageError } from '../args.ts';
import type { Command } from '../command.ts';
import { EXIT } from '../exit-codes.ts';
import { CONNECTION_HELP, CONNECTION_OPTIONS, connectionFrom, refPath, sendJson } from '../resolver-client.ts';

interface WeightAnswer {
  readonly service: string;
  readonly split: Readonly<Record<string, number>> | null;
  /** Where a PUT or DELETE was stored: the ServiceMigration object, or this bridge's memory. */
  readonly stored?: 'ServiceMigration' | 'memory';
  readonly object?: string;
  readonly note?: string;
}

/** `vm=90` → ['vm', 90]; anything else is a usage error naming the bad word. */
export function parseShare(word: string): [string, number] {
  const m = /^([a-z0-9](?:[a-z0-9-]*[a-z0-9])?)=(\d+(?:\.\d+)?)$/.exec(word);
  if (m?.[1] === undefined || m[2] === undefined) throw usageError(`"${word}" is not REGISTRY=SHARE (like vm=90)`, 'weight');
  return [m[1], Number(m[2])];
}

export const weightCommand: Command = {
  name: 'weight',
  summary: 'shift traffic between origins (VM / pods) of one service',
  help: `Usage: isthmus weight NAMESPACE/NAME REGISTRY=SHARE... [--url URL] [--token-file FILE]
       isthmus weight NAMESPACE/NAME --clear
       isthmus weight NAMESPACE/NAME

Sets a service's migration split: each origin registry's share of the traffic (only the
ratio matters). Registries that carry weights (Nacos weight, Consul Weights and Meta weight,
Dubbo URL weight) get them on the next reconcile; resolver answers, gRPC watches and the SDK
follow at once. An origin that has no ready endpoint drops out and the others take its share.
With no shares, prints the split in force.

Where it is stored: when the bridge has a Kubernetes registry and the ServiceMigration CRD
is installed, in the service's ServiceMigration object (created if missing): every replica
follows it, restarts keep it, and kubectl or Git can change it too. Otherwise in the memory
of the bridge you send it to only (a VM daemon): a restart returns to the config file. The
answer says which.

REGISTRY must be a registry id of the bridge's config, and the service must be in its
catalog. Changes need the resolver token (resolver.auth.tokenFile); a bridge without one
refuses them.

Options:
  --clear              remove the split (the config file's, if any, applies again)
${CONNECTION_HELP}
  -o, --output FORMAT  text (default) or json
  -h, --help           show this help

Examples:
  isthmus weight shop/orders vm=90 k8s=10
  isthmus weight shop/orders vm=50 k8s=50
  isthmus weight shop/orders --clear

Exit codes:
  0  done
  1  the resolver refused (no such service, no token) or could not be reached
  2  bad command line, or a REGISTRY the bridge does not have
`,
  async run({ args, io }) {
    const { values, positionals } = parseCommandArgs(
      'weight',
      args,
      { ...CONNECTION_OPTIONS, output: { type: 'string', short: 'o' }, clear: { type: 'boolean' } },
      Infinity,
    );
    const format = outputFormat(values, 'weight');
    const [target, ...words] = positionals;
    if (target === undefined) throw usageError('which service? give NAMESPACE/NAME', 'weight');
    const ref = parseRef(target);
    if (ref === undefined) throw usageError(`"${target}" is not NAMESPACE/NAME`, 'weight');
    const clear = values['clear'] === true;
    if (clear && words.length > 0) throw usageError('give either shares or --clear, not both', 'weight');
    const split = Object.fromEntries(words.map(parseShare));
    const conn = connectionFrom(values, 'weight', io.env, io.fetch);
    const path = `/v1/weights${refPath(ref)}`;
    let answer: WeightAnswer;
    if (clear) {
      const r = await sendJson<WeightAnswer>(conn, 'DELETE', path);
      answer = r.found ? r.body : { service: refKey(ref), split: null };
    } else if (words.length === 0) {
      const r = await sendJson<{ weights: Record<string, Record<string, number>> }>(conn, 'GET', '/v1/weights');
      answer = { service: refKey(ref), split: r.found ? (r.body.weights[refKey(ref)] ?? null) : null };
    } else {
      const r = await sendJson<WeightAnswer>(conn, 'PUT', path, split);
      if (!r.found) {
        // An unknown service, or a resolver without the weights API: its message says which.
        io.stderr.write(`error: the resolver at ${conn.baseUrl} refused the split: ${r.message}\n`);
        return EXIT.error;
      }
      answer = r.body;
    }
    if (format === 'json') io.stdout.write(`${JSON.stringify(answer)}\n`);
    else {
      const text = answer.split === null ? 'no split (registry weights apply)' : Object.entries(answer.split).map(([k, v]) => `${k}=${v}`).join(' ');
      io.stdout.write(`${answer.service}: ${text}${storedText(answer)}\n`);
      if (answer.stored === 'memory' && answer.note !== undefined) io.stderr.write(`warning: ${answer.note}\n`);
    }
    return EXIT.ok;
  },
};

function storedText(answer: WeightAnswer): string {
  if (answer.stored === 'ServiceMigration') return ` (stored in ServiceMigration ${answer.object ?? ''}: every replica follows it)`;
  if (answer.stored === 'memory') return ' (this bridge\'s memory only)';
  return '';
}

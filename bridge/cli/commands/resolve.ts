import type { CatalogEntry } from '../../catalog/index.ts';
import { parseRef, refKey } from '../../model/index.ts';
import { outputFormat, parseCommandArgs, stringFlag, usageError } from '../args.ts';
import type { Command } from '../command.ts';
import { EXIT } from '../exit-codes.ts';
import { formatEntry } from '../format-status.ts';
import { CONNECTION_HELP, CONNECTION_OPTIONS, connectionFrom, getJson, refPath } from '../resolver-client.ts';

export const resolveCommand: Command = {
  name: 'resolve',
  summary: 'look a service up the way callers and SDKs do',
  help: `Usage: isthmus resolve NAMESPACE/NAME [--healthy] [--origin REGISTRY] [--zone ZONE]
                       [--url URL] [--token-file FILE] [--output text|json]

Asks a running bridge's resolver for one service's merged endpoints, from every registry
(the same answer the SDK and gRPC callers get), and prints one row per endpoint:
  ADDRESS  PORTS (name:number)  HEALTH (ready | draining | down)  WEIGHT  ZONE
  ORIGIN (the registry it was registered in, and its id there)

Options:
  --healthy            only endpoints that are ready (what a load balancer should use)
  --origin REGISTRY    only endpoints registered in this registry id (e.g. k8s, nacos)
  --zone ZONE          only endpoints in this zone
${CONNECTION_HELP}
  -o, --output FORMAT  text (default) or json (the catalog entry as the API returns it)
  -h, --help           show this help

Examples:
  isthmus resolve shop/orders
  isthmus resolve shop/orders --healthy --origin k8s
  isthmus resolve shop/orders -o json | jq -r '.endpoints[].address'

Exit codes:
  0  found (even with zero endpoints after filtering)
  1  not found, or the resolver could not be reached
  2  bad command line
`,
  async run({ args, io }) {
    const { values, positionals } = parseCommandArgs(
      'resolve',
      args,
      {
        ...CONNECTION_OPTIONS,
        output: { type: 'string', short: 'o' },
        healthy: { type: 'boolean' },
        origin: { type: 'string' },
        zone: { type: 'string' },
      },
      1,
    );
    const format = outputFormat(values, 'resolve');
    const target = positionals[0];
    if (target === undefined) throw usageError('which service? give NAMESPACE/NAME', 'resolve');
    const ref = parseRef(target);
    if (ref === undefined) throw usageError(`"${target}" is not NAMESPACE/NAME`, 'resolve');
    const conn = connectionFrom(values, 'resolve', io.env, io.fetch);
    const query = new URLSearchParams();
    if (values['healthy'] === true) query.set('healthy', 'true');
    const origin = stringFlag(values, 'origin');
    if (origin !== undefined) query.set('origin', origin);
    const zone = stringFlag(values, 'zone');
    if (zone !== undefined) query.set('zone', zone);
    const qs = query.size === 0 ? '' : `?${query.toString()}`;
    const answer = await getJson<CatalogEntry>(conn, `/v1/services${refPath(ref)}${qs}`);
    if (!answer.found) {
      io.stderr.write(`not found: ${refKey(ref)} is not in the catalog of ${conn.baseUrl}\n`);
      return EXIT.error;
    }
    io.stdout.write(format === 'json' ? `${JSON.stringify(answer.body, null, 2)}\n` : formatEntry(answer.body));
    return EXIT.ok;
  },
};

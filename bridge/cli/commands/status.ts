import type { CatalogEntry } from '../../catalog/index.ts';
import { parseRef } from '../../model/index.ts';
import type { MigrationReport } from '../../ports/index.ts';
import type { BridgeStatus, ServiceExplain } from '../../sync/status.ts';
import { outputFormat, parseCommandArgs, usageError } from '../args.ts';
import type { Command } from '../command.ts';
import { EXIT } from '../exit-codes.ts';
import { formatMigration } from '../format-migration.ts';
import { formatExplain, formatStatus } from '../format-status.ts';
import { CONNECTION_HELP, CONNECTION_OPTIONS, connectionFrom, getJson, refPath } from '../resolver-client.ts';

export const statusCommand: Command = {
  name: 'status',
  summary: "show a running bridge's sync state, or explain one service",
  help: `Usage: isthmus status [NAMESPACE/NAME] [--url URL] [--token-file FILE] [--output text|json]

Asks a running bridge (its resolver HTTP API) what it is doing. Read-only.

Without a service, prints the summary:
  SOURCES        per registry: initial list done (SYNCED), reachable now, services, last error
  ROUTES         every route (one per target) with its sources and target
  queue depth    keys waiting to be reconciled
  NOTICES        advisory findings per source, e.g. an exported service whose pods run
                 STRICT mTLS (PeerAuthentication) and so refuse plaintext VM callers
  HELD CHANGES   removals the deletion guard holds back, with the reason and when they release
  QUARANTINED    source records refused as invalid (bad address, unmappable name…), with why
  ERRORS         targets whose last reconcile failed, with the error
A replica that is not the leader shows its caches but writes nothing ("standby").

With NAMESPACE/NAME, explains one service: its merged endpoints (address, ports, health
ready/draining/down, weight, zone, origin registry and native id), what each source
holds for it, and for each target sink the outcome of the last reconcile
(in-sync, applied, removed, held, error, waiting) with the reason, and its migration:
the ServiceMigration object and phase, the split in force and where it comes from
(ServiceMigration, memory, config file), ready/total instances and traffic share per
origin, and the conditions (SplitApplied, Synced, Done) the leader writes to the object.

Options:
${CONNECTION_HELP}
  -o, --output FORMAT  text (default) or json (the API's answer as is)
  -h, --help           show this help

Examples:
  isthmus status
  isthmus status shop/orders --url http://isthmus.isthmus-system:8080
  isthmus status -o json | jq '.held'

Exit codes:
  0  answered
  1  the resolver could not be reached or refused the request
  2  bad command line
`,
  async run({ args, io }) {
    const { values, positionals } = parseCommandArgs('status', args, { ...CONNECTION_OPTIONS, output: { type: 'string', short: 'o' } }, 1);
    const format = outputFormat(values, 'status');
    const conn = connectionFrom(values, 'status', io.env, io.fetch);
    const target = positionals[0];
    const print = (text: string) => io.stdout.write(text);
    if (target === undefined) {
      const answer = await getJson<BridgeStatus>(conn, '/v1/status');
      if (!answer.found) throw usageError(`${conn.baseUrl}/v1/status does not exist; is this an Isthmus resolver?`, 'status');
      print(format === 'json' ? `${JSON.stringify(answer.body, null, 2)}\n` : formatStatus(answer.body, io.now()));
      return EXIT.ok;
    }
    const ref = parseRef(target);
    if (ref === undefined) throw usageError(`"${target}" is not NAMESPACE/NAME`, 'status');
    const answer = await getJson<{ service: CatalogEntry | null; explain: ServiceExplain; migration?: MigrationReport }>(conn, `/v1/status${refPath(ref)}`);
    if (!answer.found) {
      io.stderr.write(`not found: ${answer.message}\n`);
      return EXIT.error;
    }
    const body = answer.body;
    print(format === 'json' ? `${JSON.stringify(body, null, 2)}\n` : formatExplain(body.service, body.explain, io.now()) + formatMigration(body.migration));
    return EXIT.ok;
  },
};

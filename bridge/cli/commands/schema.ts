import { configJsonSchema } from '../../runtime/config/index.ts';
import { parseCommandArgs } from '../args.ts';
import type { Command } from '../command.ts';
import { EXIT } from '../exit-codes.ts';

export const schemaCommand: Command = {
  name: 'schema',
  summary: 'print the JSON Schema of the config file',
  help: `Usage: isthmus schema

Prints the JSON Schema (draft 2020-12) of the config file to stdout, generated from the same
definitions \`isthmus validate\` enforces, with one branch per registry kind this build knows.
Every timing setting carries a description saying why its default is what it is.

Use it for editor completion (yaml-language-server: # yaml-language-server: $schema=FILE),
for the Helm chart's values.schema.json, or to read the defaults. Cross-field rules (routes
must name configured registries of the right capability) are only checked by \`validate\`.

Options:
  -h, --help           show this help

Examples:
  isthmus schema > isthmus.schema.json
  isthmus schema | jq '.properties.sync.properties | map_values(.default)'

Exit codes:
  0  printed
  2  bad command line
`,
  run({ args, deps, io }) {
    parseCommandArgs('schema', args, {}, 0);
    io.stdout.write(`${JSON.stringify(configJsonSchema(deps.kinds), null, 2)}\n`);
    return Promise.resolve(EXIT.ok);
  },
};

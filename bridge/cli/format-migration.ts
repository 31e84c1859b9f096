import type { MigrationReport } from '../ports/index.ts';
import { splitText } from '../app/migration-status.ts';
import { table } from './table.ts';

/** The MIGRATION section of `isthmus status ns/name`: phase, split in force, progress per origin. */
export function formatMigration(m: MigrationReport | undefined): string {
  if (m === undefined) return '\nMIGRATION\nnone: no split for this service\n';
  let out = '\nMIGRATION\n';
  out += `object: ${m.object === undefined ? 'none (no ServiceMigration for this service)' : `ServiceMigration ${m.object}`}\n`;
  if (m.phase !== undefined) out += `phase: ${m.phase}\n`;
  const split = m.split === undefined ? 'none (registry weights apply)' : splitText(m.split);
  out += `split: ${split}${m.splitFrom === undefined ? '' : `  (from ${FROM[m.splitFrom]})`}\n`;
  if (m.problem !== undefined) out += `problem: ${m.problem}\n`;
  if (m.unavailable !== undefined) out += `note: ServiceMigration objects unavailable: ${m.unavailable}\n`;
  const origins = Object.entries(m.status?.origins ?? {});
  if (origins.length > 0) {
    out += table(
      ['ORIGIN', 'READY', 'TOTAL', 'WEIGHT', 'SHARE'],
      origins.map(([id, o]) => [id, String(o.ready), String(o.total), String(o.weight ?? '-'), o.share === undefined ? '-' : `${o.share}%`]),
    );
  }
  for (const c of m.status?.conditions ?? []) out += `${c.type}: ${c.status} (${c.reason}) ${c.message}\n`;
  if (m.split !== undefined) out += `${CONSUMERS}\n`;
  return out;
}

// The bridge cannot see how callers balance; this says which ones a split moves.
const CONSUMERS =
  'note: the split moves traffic of weight-aware callers only: Spring Cloud LoadBalancer with ' +
  'configurations=weighted (Consul) or the Nacos load balancer, Dubbo\'s default random, the Isthmus SDK; ' +
  'Spring\'s default round-robin ignores weights (README: Migrating a service)';

const FROM = {
  migration: 'the ServiceMigration',
  runtime: 'this bridge\'s memory',
  config: 'the config file',
} as const;

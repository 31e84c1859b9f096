import type { CatalogEntry } from '../catalog/index.ts';
import { liveness, refKey } from '../model/index.ts';
import type { Endpoint } from '../model/index.ts';
import type { QuarantinedRecord } from '../ports/index.ts';
import type { BridgeStatus, HeldChange, ServiceExplain, TargetStatus } from '../sync/status.ts';
import { age, table } from './table.ts';

const yesNo = (b: boolean) => (b ? 'yes' : 'no');

/** The summary of `isthmus status`: sources, routes, queue, and everything that needs a person. */
export function formatStatus(s: BridgeStatus, now: number): string {
  let out = `bridge ${s.bridgeId}  ${s.leader ? 'leader (writing)' : 'standby (not writing)'}  queue depth ${s.queueDepth}\n`;
  out += `\nSOURCES\n`;
  out += table(
    ['REGISTRY', 'SYNCED', 'REACHABLE', 'SERVICES', 'LAST CONTACT', 'LAST ERROR'],
    s.sources.map((src) => [
      src.id,
      yesNo(src.synced),
      yesNo(src.health.reachable),
      String(src.services),
      src.health.lastContact > 0 ? `${age(now - src.health.lastContact)} ago` : 'never',
      src.health.lastError ?? (src.health.holdRemovals === undefined ? '' : `removals held: ${src.health.holdRemovals}`),
    ]),
  );
  out += `\nROUTES\n`;
  out += s.routes.length === 0 ? 'none\n' : table(['ROUTE', 'FROM', 'TO'], s.routes.map((r) => [r.id, r.from.join(', '), r.to]));
  const notices = s.sources.flatMap((src) => (src.health.notices ?? []).map((n) => ({ registry: src.id, ...n })));
  out += section('NOTICES', notices, () =>
    table(['REGISTRY', 'SERVICE', 'REASON'], notices.map((n) => [n.registry, n.ref === undefined ? '-' : refKey(n.ref), n.reason])),
  );
  out += section('HELD CHANGES', s.held, () => heldTable(s.held, now));
  out += section('QUARANTINED RECORDS', s.quarantined, () => quarantineTable(s.quarantined, now));
  out += section('ERRORS', s.errors, () =>
    table(
      ['SINK', 'SERVICE', 'ROUTES', 'AGE', 'ERROR'],
      s.errors.map((t) => [t.sink, refKey(t.ref), t.routes.join(', '), age(now - t.at), t.error ?? '']),
    ),
  );
  return out;
}

function section(title: string, items: readonly unknown[], render: () => string): string {
  return items.length === 0 ? `\n${title}: none\n` : `\n${title} (${items.length})\n${render()}`;
}

function heldTable(held: readonly HeldChange[], now: number): string {
  return table(
    ['SINK', 'SERVICE', 'ENDPOINTS', 'HELD FOR', 'RELEASE', 'REASON'],
    held.map((h) => [
      h.sink,
      refKey(h.ref),
      `-${h.endpoints}`,
      age(now - h.since),
      h.releaseAt === undefined ? 'when sources change' : h.releaseAt <= now ? 'now' : `in ${age(h.releaseAt - now)}`,
      h.reason,
    ]),
  );
}

function quarantineTable(records: readonly QuarantinedRecord[], now: number): string {
  return table(
    ['REGISTRY', 'NATIVE ID', 'SERVICE', 'AGE', 'REASON'],
    records.map((q) => [q.registry, q.nativeId, q.ref === undefined ? '-' : refKey(q.ref), age(now - q.since), q.reason]),
  );
}

function ports(ep: Endpoint): string {
  const entries = Object.entries(ep.ports);
  if (entries.length === 0) return '-';
  return entries.map(([name, port]) => (name === '' ? String(port) : `${name}:${port}`)).join(',');
}

/** The endpoint table shared by `status <ref>` and `resolve`. */
export function endpointTable(endpoints: readonly Endpoint[]): string {
  if (endpoints.length === 0) return 'no endpoints\n';
  return table(
    ['ADDRESS', 'PORTS', 'HEALTH', 'WEIGHT', 'ZONE', 'ORIGIN'],
    endpoints.map((ep) => [ep.address, ports(ep), liveness(ep), String(ep.weight), ep.zone ?? '-', `${ep.origin.registry} (${ep.origin.nativeId})`]),
  );
}

/** `isthmus resolve`: the catalog entry as callers would get it. */
export function formatEntry(entry: CatalogEntry): string {
  const head = `${refKey(entry.ref)}  revision ${entry.revision}  registries: ${entry.registries.join(', ') || '-'}\n`;
  const portLine =
    entry.ports.length === 0 ? '' : `ports: ${entry.ports.map((p) => `${p.name || '-'}=${p.port}${p.protocol === undefined ? '' : `/${p.protocol}`}`).join(' ')}\n`;
  return `${head}${portLine}\n${endpointTable(entry.endpoints)}`;
}

function targetReason(t: TargetStatus): string {
  return t.error ?? t.held?.reason ?? '';
}

/** `isthmus status ns/name`: where each endpoint came from and what each sink did with it. */
export function formatExplain(service: CatalogEntry | null, explain: ServiceExplain, now: number): string {
  let out = `service ${refKey(explain.ref)}\n`;
  if (service === null) {
    out += '\nnot in the catalog: no source lists it\n';
  } else {
    out += `revision ${service.revision}  registries: ${service.registries.join(', ') || '-'}\n`;
    out += `\nENDPOINTS (${service.endpoints.length})\n${endpointTable(service.endpoints)}`;
  }
  out += `\nSOURCES\n`;
  out +=
    explain.sources.length === 0 ? 'none\n' : table(['REGISTRY', 'ENDPOINTS'], explain.sources.map((s) => [s.id, String(s.endpoints)]));
  out += `\nTARGETS\n`;
  out +=
    explain.targets.length === 0
      ? 'none: no route carries this service\n'
      : table(
          ['SINK', 'TARGET', 'ROUTES', 'OUTCOME', 'DESIRED', 'AGE', 'REASON'],
          explain.targets.map((t) => [
            t.sink,
            refKey(t.ref),
            t.routes.join(', '),
            t.outcome,
            String(t.desiredEndpoints),
            age(now - t.at),
            targetReason(t),
          ]),
        );
  out += section('QUARANTINED RECORDS', explain.quarantined, () => quarantineTable(explain.quarantined, now));
  return out;
}

// One service: its endpoints with origin, health, weight and zone; held deletions and quarantined
// records with their reasons; what each sink did; the split declared and as written. The
// explanation comes from /v1/status/:ns/:name, fetched again only when an event says the
// service's catalog entry or the status changed: live, without a timer of its own.
import { badge, h, replace, table } from './dom.js';
import { ago, iso, refKey, splitText, until } from './format.js';
import { isPodRegistry } from './model.js';

/** What the page last fetched, and for which inputs. */
let fetched = { key: '', revision: -1, status: null, body: null, error: '' };
let inFlight = false;

function liveness(ep) {
  if (ep.terminating) return ep.serving ? badge('draining', 'warn') : badge('down', 'bad');
  return ep.ready ? badge('ready', 'ok') : badge('down', 'bad');
}

function ports(ep) {
  return Object.entries(ep.ports).map(([n, p]) => `${n}:${p}`).join(' ');
}

function endpointsTable(status, service) {
  const eps = service?.endpoints ?? [];
  return table(['address', 'ports', 'origin', 'side', 'native id', 'health', 'weight', 'zone'],
    eps.map((ep) => [ep.address, ports(ep), ep.origin.registry, isPodRegistry(status, ep.origin.registry) ? 'pod' : 'VM', ep.origin.nativeId, liveness(ep), ep.weight, ep.zone ?? '']),
    { empty: 'no endpoints in the catalog', testid: 'endpoints' });
}

function heldTable(explain) {
  const held = explain.targets.filter((t) => t.held !== undefined).map((t) => t.held);
  return table(['sink', 'endpoints kept', 'reason', 'held since', 'released'],
    held.map((x) => [x.sink, x.endpoints, x.reason, h('span', { title: iso(x.since) }, ago(x.since)), x.releaseAt === undefined ? 'when the sources change' : h('span', { title: iso(x.releaseAt) }, until(x.releaseAt))]),
    { empty: 'no deletion held', testid: 'held' });
}

function quarantineTable(explain) {
  return table(['registry', 'record', 'reason', 'since'],
    explain.quarantined.map((q) => [q.registry, q.nativeId, q.reason, h('span', { title: iso(q.since) }, ago(q.since))]),
    { empty: 'no record quarantined', testid: 'quarantined' });
}

/** Source notices about this service (advisory: e.g. STRICT mTLS refusing VM callers). */
function noticesTable(status, ns, name) {
  const rows = (status?.sources ?? []).flatMap((s) => (s.health.notices ?? [])
    .filter((n) => n.ref !== undefined && n.ref.namespace === ns && n.ref.name === name)
    .map((n) => [s.id, n.code, n.reason]));
  return table(['registry', 'notice', 'reason'], rows, { empty: 'no notice', testid: 'service-notices' });
}

function sinksTable(explain) {
  const kind = (o) => (o === 'error' ? 'bad' : o === 'held' ? 'warn' : o === 'planned' ? 'info' : 'ok');
  return table(['sink', 'target', 'routes', 'outcome', 'endpoints', 'when', 'error'],
    explain.targets.map((t) => [t.sink, refKey(t.ref.namespace, t.ref.name), t.routes.join(', '), badge(t.outcome, kind(t.outcome)), t.desiredEndpoints, h('span', { title: iso(t.at) }, ago(t.at)), t.error ?? '']),
    { empty: 'no route writes this service anywhere', testid: 'sinks' });
}

function migrationSection(migration) {
  if (migration === undefined) return h('p', { class: 'muted' }, 'No split and no ServiceMigration: every endpoint keeps its registry weight.');
  const origins = Object.entries(migration.status?.origins ?? {});
  return h('div', null,
    h('dl', { class: 'facts' },
      h('dt', null, 'declared split'), h('dd', { 'data-testid': 'split-declared' }, splitText(migration.split) || '—', migration.splitFrom ? h('span', { class: 'muted' }, ` (from ${migration.splitFrom})`) : null),
      h('dt', null, 'phase'), h('dd', null, migration.phase ?? '—'),
      h('dt', null, 'ServiceMigration'), h('dd', null, migration.object ?? migration.unavailable ?? '—'),
      migration.problem !== undefined && h('dt', null, 'problem'), migration.problem !== undefined && h('dd', { class: 'bad-text' }, migration.problem)),
    origins.length > 0 && table(['origin', 'ready/total', 'weight written', 'traffic share'],
      origins.map(([id, o]) => [id, `${o.ready}/${o.total}`, o.weight ?? '', o.share === undefined ? '' : `${o.share.toFixed(1)} %`]),
      { testid: 'split-written' }));
}

function sourcesLine(explain) {
  if (explain.sources.length === 0) return 'No source lists this service.';
  return `Listed by ${explain.sources.map((s) => `${s.id} (${s.endpoints})`).join(', ')}.`;
}

function draw(main, state, key) {
  const body = fetched.body;
  const head = h('h1', null, h('a', { href: '#/' }, 'Services'), ' / ', key);
  if (body === null) {
    replace(main, head, h('p', { class: fetched.error ? 'bad-text' : 'muted' }, fetched.error || 'Loading…'));
    return;
  }
  const { explain, service, migration } = body;
  replace(main, head,
    h('p', { class: 'muted' }, service === null ? 'Not in the catalog now. ' : `Catalog revision ${service.revision}. `, sourcesLine(explain)),
    h('h2', null, 'Endpoints'), endpointsTable(state.status, service),
    h('h2', null, 'Held deletions'), heldTable(explain),
    h('h2', null, 'Quarantined records'), quarantineTable(explain),
    h('h2', null, 'What each sink did'), sinksTable(explain),
    h('h2', null, 'Notices'), noticesTable(state.status, explain.ref.namespace, explain.ref.name),
    h('h2', null, 'Migration split'), migrationSection(migration));
}

async function load(main, state, namespace, name) {
  const key = refKey(namespace, name);
  const revision = state.catalog.services.find((s) => s.namespace === namespace && s.name === name)?.revision ?? 0;
  const status = state.status;
  inFlight = true;
  try {
    const res = await fetch(`/v1/status/${encodeURIComponent(namespace)}/${encodeURIComponent(name)}`, { headers: { accept: 'application/json' } });
    if (res.status === 401) {
      location.reload();
      return;
    }
    const body = await res.json();
    fetched = res.ok ? { key, revision, status, body, error: '' } : { key, revision, status, body: null, error: `${body.code}: ${body.message}` };
  } catch (err) {
    fetched = { key, revision, status, body: null, error: `could not load: ${String(err)}` };
  } finally {
    inFlight = false;
  }
  // Still on this service? Draw, and catch up if events arrived while we were fetching.
  if (main.getAttribute('data-view') === `service:${key}`) renderService(main, state, namespace, name);
}

export function renderService(main, state, namespace, name) {
  const key = refKey(namespace, name);
  const revision = state.catalog.services.find((s) => s.namespace === namespace && s.name === name)?.revision ?? 0;
  if (main.getAttribute('data-view') !== `service:${key}`) {
    main.setAttribute('data-view', `service:${key}`);
    if (fetched.key !== key) fetched = { key, revision: -1, status: null, body: null, error: '' };
  }
  const stale = fetched.revision !== revision || fetched.status !== state.status;
  if (stale && !inFlight) void load(main, state, namespace, name);
  draw(main, state, key);
}

// The bridge itself: this replica's role, each source's reachability and sync, each sink's last
// outcomes, routes, and every held deletion, quarantined record and failing target at once.
import { badge, h, replace, serviceHref, table } from './dom.js';
import { ago, iso, until } from './format.js';

function sourceRows(status) {
  return status.sources.map((s) => [
    s.id,
    status.kinds?.[s.id] ?? '',
    s.synced ? badge('synced', 'ok') : badge('syncing', 'warn'),
    s.health.reachable ? badge('reachable', 'ok') : badge('unreachable', 'bad'),
    // While reachable the time moves with every answer and is not streamed; once not, it is the news.
    s.health.reachable ? 'connected' : h('span', { title: iso(s.health.lastContact) }, ago(s.health.lastContact)),
    s.services,
    s.health.holdRemovals ?? '',
    s.health.lastError ?? '',
  ]);
}

/** Per sink: how many targets it holds in each outcome, errors, and its latest write. */
function sinkRows(status) {
  const sinks = [...new Set(status.routes.map((r) => r.to))].sort();
  return sinks.map((sink) => {
    const mine = status.exports.filter((e) => e.sink === sink);
    const by = {};
    let last = 0;
    for (const e of mine) {
      by[e.outcome] = (by[e.outcome] ?? 0) + 1;
      if (e.at > last) last = e.at;
    }
    const errors = status.errors.filter((e) => e.sink === sink).length;
    const held = status.held.filter((x) => x.sink === sink).length;
    return [
      sink,
      status.kinds?.[sink] ?? '',
      mine.length,
      Object.entries(by).map(([o, n]) => `${o} ${n}`).join(', '),
      errors > 0 ? badge(`${errors}`, 'bad') : '0',
      held > 0 ? badge(`${held}`, 'warn') : '0',
      h('span', { title: iso(last) }, ago(last)),
    ];
  });
}

const link = (ref) => h('a', { href: serviceHref(ref.namespace, ref.name) }, `${ref.namespace}/${ref.name}`);

/** Advisory findings of every source (e.g. exports STRICT mTLS refuses): nothing is held for them. */
function noticeRows(status) {
  return status.sources.flatMap((s) => (s.health.notices ?? []).map((n) => [s.id, n.ref === undefined ? '' : link(n.ref), n.code, n.reason]));
}

export function renderBridge(main, state) {
  const status = state.status;
  main.setAttribute('data-view', 'bridge');
  replace(main,
    h('h1', null, `Bridge ${status.bridgeId}`),
    h('dl', { class: 'facts' },
      h('dt', null, 'this replica'), h('dd', { 'data-testid': 'role' }, status.leader ? badge('leader: writes', 'ok') : badge('standby: reads and serves only', 'info')),
      h('dt', null, 'work queue'), h('dd', null, `${status.queueDepth} services waiting`),
      h('dt', null, 'catalog'), h('dd', null, `${state.catalog.services.length} services, revision ${state.catalog.revision}`)),
    h('h2', null, 'Sources'),
    table(['registry', 'kind', 'sync', 'reachability', 'last contact', 'services', 'holding removals', 'last error'], sourceRows(status), { testid: 'sources' }),
    h('h2', null, 'Sinks'),
    table(['registry', 'kind', 'targets', 'outcomes', 'errors', 'held', 'last pass'], sinkRows(status), { empty: 'no route writes anywhere', testid: 'sinks' }),
    h('p', { class: 'muted' }, 'A sink\'s reachability shows as errors on its targets; the periodic resync time is not reported by the status API.'),
    h('h2', null, 'Notices'),
    table(['registry', 'service', 'notice', 'reason'], noticeRows(status), { empty: 'no notice', testid: 'notices' }),
    h('h2', null, 'Routes'),
    table(['route', 'from', 'to'], status.routes.map((r) => [r.id, r.from.join(', '), r.to]), { testid: 'routes' }),
    h('h2', null, 'Held deletions'),
    table(['sink', 'service', 'endpoints kept', 'reason', 'since', 'released'],
      status.held.map((x) => [x.sink, link(x.ref), x.endpoints, x.reason, ago(x.since), x.releaseAt === undefined ? 'when the sources change' : until(x.releaseAt)]),
      { empty: 'no deletion held', testid: 'all-held' }),
    h('h2', null, 'Quarantined records'),
    table(['registry', 'service', 'record', 'reason', 'since'],
      status.quarantined.map((q) => [q.registry, q.ref === undefined ? '' : link(q.ref), q.nativeId, q.reason, ago(q.since)]),
      { empty: 'no record quarantined', testid: 'all-quarantined' }),
    h('h2', null, 'Failing targets'),
    table(['sink', 'service', 'error', 'since'],
      status.errors.map((e) => [e.sink, link(e.ref), e.error ?? '', ago(e.at)]),
      { empty: 'no target failing', testid: 'errors' }));
}

// The overview: one row per service with both sides' counts, where it is exported, and badges
// for held deletions and quarantined records; filters and a search box above it. The controls
// are built once per visit and kept, so typing is not interrupted by live updates.
import { badge, h, replace, serviceHref, table } from './dom.js';
import { ago, iso, splitText } from './format.js';
import { allRows } from './model.js';

const filters = { search: '', namespace: '', registry: '', state: '' };

/**
 * Rows drawn at most: a table of 10,000 services is ~200,000 DOM nodes redrawn on every event,
 * which stalls the browser for about a second; past this many, the filters narrow it instead.
 */
const MAX_ROWS = 500;

const STATES = [
  ['', 'any state'],
  ['attention', 'needs attention'],
  ['held', 'held deletions'],
  ['quarantined', 'quarantined records'],
  ['unhealthy', 'not all ready'],
  ['dual', 'on both sides'],
  ['vm-only', 'VMs only'],
  ['k8s-only', 'pods only'],
];

function select(name, label, options, onChange) {
  const el = h('select', { name, 'aria-label': label });
  for (const [value, text] of options) el.append(h('option', { value }, text));
  el.value = filters[name];
  el.addEventListener('change', () => { filters[name] = el.value; onChange(); });
  return el;
}

/** Keeps a select's options in step with the data without losing the user's choice. */
function refreshOptions(el, options) {
  const current = el.value;
  el.replaceChildren(...options.map(([value, text]) => h('option', { value }, text)));
  el.value = options.some(([v]) => v === current) ? current : '';
}

function matches(row) {
  const q = filters.search.trim().toLowerCase();
  if (q !== '' && !row.key.toLowerCase().includes(q)) return false;
  if (filters.namespace !== '' && row.namespace !== filters.namespace) return false;
  if (filters.registry !== '' && !row.registries.includes(filters.registry)) return false;
  switch (filters.state) {
    case 'attention': return row.held.length + row.quarantined.length + row.errors.length > 0 || row.vmSum.ready + row.podSum.ready < row.vmSum.total + row.podSum.total;
    case 'held': return row.held.length > 0;
    case 'quarantined': return row.quarantined.length > 0;
    case 'unhealthy': return row.vmSum.ready + row.podSum.ready < row.vmSum.total + row.podSum.total;
    case 'dual': case 'vm-only': case 'k8s-only': return row.phase === filters.state;
    default: return true;
  }
}

/** "consul 2/2" per origin registry, red when not all ready. */
function counts(origins) {
  if (origins.length === 0) return h('span', { class: 'muted' }, '—');
  return h('span', { class: 'counts' }, origins.map((o) => badge(`${o.registry} ${o.ready}/${o.total}`, o.ready < o.total ? 'bad' : 'ok', o.draining > 0 ? `${o.draining} draining` : undefined)));
}

function side(s) {
  return s.total === 0 ? '' : h('span', { class: s.ready < s.total ? 'bad-text' : undefined, 'data-testid': 'ready' }, `${s.ready}/${s.total}`);
}

function exportsCell(row) {
  if (row.exports.length === 0) return h('span', { class: 'muted' }, '—');
  return h('span', { class: 'counts' }, row.exports.map((e) => badge(`${e.sink} ${e.endpoints}`, e.outcome === 'error' ? 'bad' : e.outcome === 'held' ? 'warn' : e.outcome === 'planned' ? 'info' : 'ok', `${e.outcome} ${iso(e.at)}`)));
}

function flags(row) {
  return h('span', { class: 'counts' },
    row.held.length > 0 && badge(`held ${row.held.length}`, 'warn', row.held.map((x) => `${x.sink}: ${x.reason}`).join('\n')),
    row.quarantined.length > 0 && badge(`quarantined ${row.quarantined.length}`, 'bad', row.quarantined.map((q) => `${q.registry} ${q.nativeId}: ${q.reason}`).join('\n')),
    row.errors.length > 0 && badge(`errors ${row.errors.length}`, 'bad', row.errors.map((x) => `${x.sink}: ${x.error ?? ''}`).join('\n')),
  );
}

function rowCells(row) {
  return [
    h('a', { href: serviceHref(row.namespace, row.name), 'data-testid': 'service-link' }, row.key),
    h('span', null, badge(row.phase, row.phase === 'dual' ? 'info' : 'muted'), row.split !== undefined ? h('span', { class: 'split' }, ` ${splitText(row.split)}`) : null),
    counts(row.vm),
    side(row.vmSum),
    counts(row.pods),
    side(row.podSum),
    exportsCell(row),
    h('span', { title: iso(row.lastSync) }, ago(row.lastSync)),
    flags(row),
  ];
}

export function renderOverview(main, state) {
  const rows = allRows(state).sort((a, b) => a.key.localeCompare(b.key));
  if (main.getAttribute('data-view') !== 'overview') {
    main.setAttribute('data-view', 'overview');
    const redraw = () => { renderOverview(main, state); };
    const search = h('input', { type: 'search', name: 'search', placeholder: 'search services', 'aria-label': 'search services', value: filters.search });
    search.addEventListener('input', () => { filters.search = search.value; redraw(); });
    replace(main,
      h('h1', null, 'Services'),
      h('section', { class: 'controls' }, search,
        select('namespace', 'namespace', [['', 'all namespaces']], redraw),
        select('registry', 'registry', [['', 'all registries']], redraw),
        select('state', 'state', STATES, redraw)),
      h('p', { class: 'muted', id: 'overview-summary' }),
      h('div', { id: 'overview-table' }));
  }
  const ns = [...new Set(rows.map((r) => r.namespace))].sort();
  const regs = Object.keys(state.status.kinds ?? {}).sort();
  refreshOptions(main.querySelector('select[name=namespace]'), [['', 'all namespaces'], ...ns.map((n) => [n, n])]);
  refreshOptions(main.querySelector('select[name=registry]'), [['', 'all registries'], ...regs.map((r) => [r, `${r} (${state.status.kinds[r]})`])]);
  const matching = rows.filter(matches);
  const shown = matching.slice(0, MAX_ROWS);
  const held = rows.reduce((n, r) => n + r.held.length, 0);
  const quarantined = state.status.quarantined.length;
  replace(main.querySelector('#overview-summary'),
    `${matching.length} of ${rows.length} services${matching.length > shown.length ? ` (the first ${shown.length} shown: narrow with the filters)` : ''} · catalog revision ${state.catalog.revision} · ${held} held deletions · ${quarantined} quarantined records`);
  replace(main.querySelector('#overview-table'), table(
    ['service', 'phase / split', 'VM instances', 'VM ready', 'pods', 'pods ready', 'exported to', 'last sync', 'attention'],
    shown.map(rowCells),
    { empty: rows.length === 0 ? 'the catalog is empty' : 'no service matches the filters', testid: 'services' },
  ));
  // Rows carry their key so tests and users' scripts can find one without parsing text.
  const trs = main.querySelectorAll('#overview-table tbody tr:not(.empty)');
  shown.forEach((row, i) => { trs[i]?.setAttribute('data-service', row.key); });
}

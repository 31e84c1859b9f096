// The console's entry: one EventSource on /v1/events keeps `state` current, and the view of the
// current route is drawn again from `state` whenever either part changes. Nothing polls: the
// service page fetches its explanation when the catalog or status events say it may have changed.
import { renderBridge } from './bridge.js';
import { renderOverview } from './overview.js';
import { renderService } from './service.js';

/** @type {{ catalog: any, status: any, connected: boolean }} */
const state = { catalog: null, status: null, connected: false };

const main = /** @type {HTMLElement} */ (document.getElementById('main'));
const conn = /** @type {HTMLElement} */ (document.getElementById('conn'));
const bridgeId = /** @type {HTMLElement} */ (document.getElementById('bridge-id'));

/** The route from the hash: overview, bridge, or one service (its parts percent-decoded). */
function route() {
  const parts = location.hash.replace(/^#\/?/, '').split('/');
  if (parts[0] === 'bridge') return { page: 'bridge' };
  if (parts[0] === 'service' && parts.length >= 3) {
    try {
      return { page: 'service', namespace: decodeURIComponent(parts[1] ?? ''), name: decodeURIComponent(parts.slice(2).join('/')) };
    } catch {
      return { page: 'overview' };
    }
  }
  return { page: 'overview' };
}

function draw() {
  const r = route();
  for (const a of document.querySelectorAll('[data-nav]')) {
    a.classList.toggle('active', a.getAttribute('data-nav') === (r.page === 'bridge' ? 'bridge' : 'overview'));
  }
  if (state.status !== null) bridgeId.textContent = `bridge ${state.status.bridgeId} · ${state.status.leader ? 'leader' : 'standby'}`;
  if (state.catalog === null || state.status === null) return;
  if (r.page === 'bridge') renderBridge(main, state);
  else if (r.page === 'service') renderService(main, state, r.namespace, r.name);
  else renderOverview(main, state);
}

function setConnection(label, kind) {
  conn.textContent = label;
  conn.setAttribute('data-state', kind);
}

function connect() {
  const events = new EventSource('/v1/events');
  events.addEventListener('open', () => { setConnection('live', 'live'); });
  events.addEventListener('catalog', (e) => {
    state.catalog = JSON.parse(/** @type {MessageEvent} */ (e).data);
    draw();
  });
  events.addEventListener('status', (e) => {
    state.status = JSON.parse(/** @type {MessageEvent} */ (e).data);
    draw();
  });
  events.addEventListener('error', () => {
    // EventSource retries by itself after a dropped connection (readyState CONNECTING). It gives
    // up (CLOSED) on an HTTP error such as 401 after a token rotation, or 503 when the resolver
    // is full or shutting down: then one retry of our own after a pause, with a fresh page on 401.
    if (events.readyState === EventSource.CLOSED) {
      setConnection('disconnected', 'down');
      void fetch('/v1/status', { method: 'HEAD' }).then((res) => {
        if (res.status === 401) location.reload();
        else setTimeout(connect, 5000);
      }, () => { setTimeout(connect, 5000); });
    } else {
      setConnection('reconnecting…', 'down');
    }
  });
}

// Relative times ("12 s ago") age between events; redrawing from memory costs no request.
setInterval(draw, 5000);

window.addEventListener('hashchange', () => {
  main.removeAttribute('data-view');
  draw();
});
connect();

// Building DOM from registry data. Everything a registry or a user can influence becomes a text
// node or an attribute value set through the DOM API, never markup: a service or instance name
// like `<img onerror=…>` must show up as those characters.

/**
 * `h('td', { class: 'num', title: 'x' }, 'text', childNode, null)`: an element with attributes
 * and children. Strings and numbers become text nodes; null, undefined and false are skipped,
 * so conditional parts read naturally.
 * @param {string} tag
 * @param {Record<string, string | number | boolean | undefined | null>} [attrs]
 * @param {...(Node | string | number | null | undefined | false)} children
 * @returns {HTMLElement}
 */
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs ?? {})) {
    if (value === undefined || value === null || value === false) continue;
    el.setAttribute(name, value === true ? '' : String(value));
  }
  for (const child of children) append(el, child);
  return el;
}

/**
 * @param {Node} parent
 * @param {Node | string | number | null | undefined | false | Array<Node | string | number | null | undefined | false>} child
 */
export function append(parent, child) {
  if (child === null || child === undefined || child === false) return;
  if (Array.isArray(child)) {
    for (const c of child) append(parent, c);
    return;
  }
  parent.appendChild(typeof child === 'string' || typeof child === 'number' ? document.createTextNode(String(child)) : child);
}

/** Replaces every child of `el`. */
export function replace(el, ...children) {
  el.replaceChildren();
  for (const c of children) append(el, c);
}

/** A small pill; `kind` picks its colour in style.css (ok, warn, bad, info, muted). */
export function badge(text, kind, title) {
  return h('span', { class: `badge ${kind}`, title }, text);
}

/**
 * A table with a header row; `rows` are arrays of cells (nodes or text). An empty table says so
 * in one row instead of leaving a bare header.
 * @param {string[]} head
 * @param {Array<Array<Node | string | number | null | undefined>>} rows
 * @param {{ empty?: string, testid?: string }} [opts]
 */
export function table(head, rows, opts = {}) {
  const body = h('tbody');
  if (rows.length === 0) append(body, h('tr', { class: 'empty' }, h('td', { colspan: head.length }, opts.empty ?? 'none')));
  for (const row of rows) append(body, h('tr', null, row.map((cell) => h('td', null, cell))));
  return h('table', { 'data-testid': opts.testid }, h('thead', null, h('tr', null, head.map((t) => h('th', null, t)))), body);
}

/** `#/service/<ns>/<name>`, each part escaped so a `/` or `#` in a name cannot change the route. */
export function serviceHref(namespace, name) {
  return `#/service/${encodeURIComponent(namespace)}/${encodeURIComponent(name)}`;
}

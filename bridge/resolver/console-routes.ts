/**
 * The operator console at /ui (README "Console"): one static page, a script module and a style
 * sheet from ./console/, no build step. The page reads the same /v1 API as everyone else and
 * follows `GET /v1/events`, so the resolver does no rendering of its own.
 *
 * | method & path          | answers                                                                  |
 * |------------------------|--------------------------------------------------------------------------|
 * | GET /ui                | the console page; with `resolver.auth` and no session cookie, 401 and a login page instead |
 * | GET /ui/assets/:file   | the page's modules (app.js …) and style.css (code only, no data: served without a session so the login page has its style) |
 * | GET /ui/login          | 303 to /ui (a reload after a failed sign-in lands on the page or the form) |
 * | POST /ui/login         | form field `token`: right → 303 to /ui with the session cookie (console-session.ts); wrong → 401 login page |
 * | POST /ui/logout        | removes the session cookie, 303 to /ui                                   |
 */
import { readFileSync } from 'node:fs';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ConsoleSession } from './console-session.ts';

const DIR = new URL('./console/', import.meta.url);

/** The files the console may serve, and their types; nothing else under ./console/ is reachable. */
const ASSETS: Readonly<Record<string, string>> = {
  'app.js': 'text/javascript; charset=utf-8',
  'bridge.js': 'text/javascript; charset=utf-8',
  'dom.js': 'text/javascript; charset=utf-8',
  'format.js': 'text/javascript; charset=utf-8',
  'model.js': 'text/javascript; charset=utf-8',
  'overview.js': 'text/javascript; charset=utf-8',
  'service.js': 'text/javascript; charset=utf-8',
  'style.css': 'text/css; charset=utf-8',
};

const HTML = 'text/html; charset=utf-8';

/**
 * Scripts and styles from this origin only, and no framing: registry data reaches the page as
 * text nodes, and this is the second line should a rendering bug ever let markup through.
 */
const CSP = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

/** A login form carries one short field; anything larger is not ours. */
const LOGIN_BODY_LIMIT = 8 * 1024;

/** Marker in login.html that a failed attempt turns into a visible message. */
const FAILED_MARKER = 'data-failed="false"';

export interface ConsoleRoutesContext {
  /** Absent when the resolver has no token: the console is open like /v1. */
  readonly session?: ConsoleSession;
}

/** Read once on first use and kept: a handful of small files that change only with a release. */
function loader(): (name: string) => Buffer {
  const files = new Map<string, Buffer>();
  return (name) => {
    let body = files.get(name);
    if (body === undefined) {
      body = readFileSync(new URL(name, DIR));
      files.set(name, body);
    }
    return body;
  };
}

/** True when the browser says the request comes from a page of another origin. */
function crossSite(req: FastifyRequest): boolean {
  const origin = req.headers.origin;
  if (origin === undefined) return req.headers['sec-fetch-site'] === 'cross-site';
  try {
    return new URL(origin).host !== req.headers.host;
  } catch {
    return true;
  }
}

export function registerConsoleRoutes(app: FastifyInstance, ctx: ConsoleRoutesContext): void {
  const file = loader();
  const { session } = ctx;

  const page = (reply: FastifyReply, status: number, body: string | Buffer): FastifyReply =>
    reply.code(status).header('content-security-policy', CSP).header('cache-control', 'no-store').header('x-content-type-options', 'nosniff').type(HTML).send(body);

  const loginPage = (reply: FastifyReply, failed: boolean): FastifyReply => {
    const html = file('login.html').toString('utf8');
    return page(reply.header('www-authenticate', 'Bearer realm="isthmus"'), 401, failed ? html.replace(FAILED_MARKER, 'data-failed="true"') : html);
  };

  const signedIn = (req: FastifyRequest): boolean => session === undefined || session.cookieValid(req.headers.cookie);

  const index = (req: FastifyRequest, reply: FastifyReply): FastifyReply =>
    signedIn(req) ? page(reply, 200, file('index.html')) : loginPage(reply, false);
  app.get('/ui', index);
  app.get('/ui/', index);
  app.get('/ui/login', (_req, reply) => reply.redirect('/ui', 303));

  app.get<{ Params: { file: string } }>('/ui/assets/:file', (req, reply) => {
    const type = ASSETS[req.params.file];
    if (type === undefined || !Object.hasOwn(ASSETS, req.params.file)) {
      reply.callNotFound();
      return reply;
    }
    return reply.header('cache-control', 'no-cache').header('x-content-type-options', 'nosniff').type(type).send(file(req.params.file));
  });

  void app.register((ui, _opts, done) => {
    // Browsers post forms urlencoded, which fastify does not parse by default; only here.
    ui.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string', bodyLimit: LOGIN_BODY_LIMIT }, (_req, body, parsed) => {
      parsed(null, Object.fromEntries(new URLSearchParams(typeof body === 'string' ? body : body.toString('utf8'))));
    });

    ui.post<{ Body: unknown }>('/ui/login', (req, reply) => {
      if (session === undefined) return reply.redirect('/ui', 303);
      // Another site's page posting its own token here would sign the user into a session they
      // did not choose (login CSRF); browsers name the posting page's origin.
      if (crossSite(req)) return reply.code(403).type('text/plain; charset=utf-8').send('sign in from this resolver\'s own /ui page');
      const token = typeof req.body === 'object' && req.body !== null && 'token' in req.body && typeof req.body.token === 'string' ? req.body.token.trim() : '';
      if (token === '' || !session.tokenMatches(token)) return loginPage(reply, true);
      return reply.header('set-cookie', session.setCookie()).redirect('/ui', 303);
    });

    ui.post('/ui/logout', (_req, reply) => {
      if (session !== undefined) reply.header('set-cookie', session.clearCookie());
      return reply.redirect('/ui', 303);
    });
    done();
  });
}

// Istio's CustomResourceDefinitions for the real-apiserver tests, fetched on demand from the Go
// module proxy (istio.io/api ships them as kubernetes/customresourcedefinitions.gen.yaml) and
// cached per version, so a fresh CI machine needs nothing but the proxy and a warm one nothing.
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { readZipEntry } from './zip.ts';

/** The istio.io/api release whose CRDs we validate against (the newest the proxy list names). */
export const ISTIO_API_VERSION = process.env['ISTHMUS_ISTIO_API_VERSION'] ?? 'v1.32.0';
const MODULE = 'istio.io/api';
const CRD_FILE = 'kubernetes/customresourcedefinitions.gen.yaml';

export type Json = Record<string, unknown>;

function cacheRoot(): string {
  const xdg = process.env['XDG_CACHE_HOME'];
  return join(xdg !== undefined && xdg !== '' ? xdg : join(homedir(), '.cache'), 'isthmus', 'istio');
}

/**
 * The module proxy to use: the first URL in $GOPROXY (entries are separated by `,` or `|`;
 * `direct` and `off` are not proxies), else the public default — what `go` itself would try first.
 */
export function goProxy(env: string | undefined = process.env['GOPROXY']): string {
  for (const entry of (env ?? '').split(/[,|]/)) {
    const url = entry.trim();
    if (/^https?:\/\//.test(url)) return url.replace(/\/+$/, '');
  }
  return 'https://proxy.golang.org';
}

/** Module path escaping of the proxy protocol: an upper-case letter becomes `!` + lower case. */
export function escapeModulePath(path: string): string {
  return path.replace(/[A-Z]/g, (c) => `!${c.toLowerCase()}`);
}

/** Path of the cached CRD YAML for `version`, downloading and extracting it first if needed. */
export async function istioCrdFile(version = ISTIO_API_VERSION): Promise<string> {
  const dir = join(cacheRoot(), version);
  const file = join(dir, 'customresourcedefinitions.gen.yaml');
  try {
    await readFile(file);
    return file;
  } catch {
    // not cached yet
  }
  const url = `${goProxy()}/${escapeModulePath(MODULE)}/@v/${version}.zip`;
  const res = await fetch(url, { signal: AbortSignal.timeout(120_000) });
  if (!res.ok) throw new Error(`GET ${url} → ${res.status}`);
  const zip = Buffer.from(await res.arrayBuffer());
  const yaml = readZipEntry(zip, `/${CRD_FILE}`);
  if (yaml === undefined) throw new Error(`${MODULE}@${version} has no ${CRD_FILE}`);
  await mkdir(dir, { recursive: true });
  // Write then rename: a test run killed mid-write must not leave a truncated cache behind.
  const partial = `${file}.${process.pid}.partial`;
  await writeFile(partial, yaml);
  await rename(partial, file);
  return file;
}

/** The CRD objects of a multi-document YAML (empty documents and non-CRDs skipped). */
export function parseCrds(text: string): Json[] {
  return parseAllDocuments(text)
    .map((d) => d.toJS() as unknown)
    .filter((o): o is Json => typeof o === 'object' && o !== null && (o as Json)['kind'] === 'CustomResourceDefinition');
}

export async function istioCrds(version = ISTIO_API_VERSION): Promise<Json[]> {
  return parseCrds(await readFile(await istioCrdFile(version), 'utf8'));
}

/** `group/plural` of a CRD and the versions it serves, for listing checks. */
export function servedPaths(crd: Json): string[] {
  const spec = crd['spec'] as { group: string; names: { plural: string }; versions: { name: string; served: boolean }[] };
  return spec.versions.filter((v) => v.served).map((v) => `/apis/${spec.group}/${v.name}/${spec.names.plural}`);
}

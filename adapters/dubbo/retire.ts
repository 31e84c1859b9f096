import { BAD_VERSION, NOT_EMPTY, NO_NODE, zkCode, type ZkClient, type ZkStat } from './client.ts';
import { dirMark } from './encode.ts';
import { instanceRevision, ownedMetadata } from './owned.ts';
import { mappingApps } from './reader.ts';
import { isEmptyDoc, type CreationDoc, type CreationRecord } from './record.ts';
import { javaUrlDecode, javaUrlEncode, parseDubboUrl } from './url.ts';

export interface RetireSettings {
  readonly bridgeId: string;
  readonly root: string;
  readonly servicesRoot: string;
  readonly stateRoot: string;
}

/** Codes that mean "someone else is using or changed this node": leave it alone. */
const LEAVE = new Set([NO_NODE, NOT_EMPTY, BAD_VERSION]);
const BATCH = 32;

/**
 * Cleanup's last step, after every provider URL and instance of ours was deleted: takes back our
 * applications from the interface→application mapping, deletes the MetadataInfo nodes we
 * published, then every empty directory we created (deepest first). Returns what could not be
 * undone yet because something still uses it; that stays in the record for a later cleanup.
 */
export async function retireDubbo(client: ZkClient, s: RetireSettings, records: readonly CreationRecord[]): Promise<CreationDoc> {
  const left: { apps: string[]; mappings: Record<string, { created: boolean; apps: string[] }> } = { apps: [], mappings: {} };
  for (const record of records) {
    const kept = await retireRecord(client, s, record);
    left.apps.push(...kept.apps);
    Object.assign(left.mappings, kept.mappings);
  }
  await sweepDirectories(client, s);
  return left;
}

/** Retires what one record (shard) lists; returns what stays in it. */
async function retireRecord(client: ZkClient, s: RetireSettings, record: CreationRecord): Promise<{ apps: string[]; mappings: Record<string, { created: boolean; apps: string[] }> }> {
  const found = await record.read();
  if (found === undefined) return { apps: [], mappings: {} };
  const mappings: Record<string, { created: boolean; apps: string[] }> = {};
  for (const [path, entry] of Object.entries(found.doc.mappings)) {
    const inUse = await retireMapping(client, s, path, entry);
    if (inUse.length > 0) mappings[path] = { created: entry.created, apps: inUse };
  }
  const apps: string[] = [];
  for (const app of found.doc.apps) if (!(await retireMetadata(client, s, app))) apps.push(app);
  const left = { apps, mappings };
  if (isEmptyDoc(left) || JSON.stringify(left) !== JSON.stringify(found.doc)) await leaveIfTaken(record.replace(left, found.version));
  return left;
}

/** Removes our applications from one mapping node; returns those still provided (kept). */
async function retireMapping(client: ZkClient, s: RetireSettings, path: string, entry: { readonly created: boolean; readonly apps: readonly string[] }): Promise<string[]> {
  const iface = path.slice(path.lastIndexOf('/') + 1);
  const inUse: string[] = [];
  const drop = new Set<string>();
  for (const app of entry.apps) {
    if (await stillProvided(client, s, app, iface)) inUse.push(app);
    else drop.add(app);
  }
  if (drop.size === 0) return inUse;
  // Compare-and-set as Dubbo does: a native provider appending itself meanwhile makes us re-read.
  for (let attempt = 0; attempt < 10; attempt++) {
    let read: { data: Buffer | undefined; stat: ZkStat };
    try {
      read = await client.getData(path);
    } catch (err) {
      if (zkCode(err) === NO_NODE) return inUse;
      throw err;
    }
    const apps = mappingApps(read.data);
    const next = apps.filter((a) => !drop.has(a));
    try {
      // Deleted only when we created it and nobody else is listed; else just our names go.
      if (next.length === 0 && entry.created && read.stat.numChildren === 0) await client.remove(path, read.stat.version);
      else if (next.length !== apps.length) await client.setData(path, Buffer.from(next.join(',')), read.stat.version);
      return inUse;
    } catch (err) {
      if (zkCode(err) !== BAD_VERSION) throw err;
    }
  }
  return [...inUse, ...drop];
}

/** True while any provider of `app` is registered: an application-level instance, or an interface-level URL of `iface`. */
async function stillProvided(client: ZkClient, s: RetireSettings, app: string, iface: string): Promise<boolean> {
  if ((await children(client, `${s.servicesRoot}/${app}`)).length > 0) return true;
  for (const child of await children(client, `${s.root}/${javaUrlEncode(iface)}/providers`)) {
    const text = javaUrlDecode(child);
    const parsed = text === undefined ? undefined : parseDubboUrl(text);
    if (parsed?.ok === true && parsed.url.params['application'] === app) return true;
  }
  return false;
}

/** Deletes our MetadataInfo nodes of `app` no instance points at; true when none of ours is left. */
async function retireMetadata(client: ZkClient, s: RetireSettings, app: string): Promise<boolean> {
  const dir = `${s.root}/metadata/${app}`;
  const used = new Set<string>();
  for (const id of await children(client, `${s.servicesRoot}/${app}`)) {
    const rev = instanceRevision(await dataOf(client, `${s.servicesRoot}/${app}/${id}`));
    if (rev !== undefined) used.add(rev);
  }
  let clean = true;
  for (const rev of await children(client, dir)) {
    const path = `${dir}/${rev}`;
    const read = await getOrUndefined(client, path);
    if (read === undefined || !ownedMetadata(read.data, s.bridgeId)) continue;
    if (used.has(rev) || read.stat.numChildren > 0) {
      clean = false;
      continue;
    }
    if (!(await leaveIfTaken(client.remove(path, read.stat.version)))) clean = false;
  }
  return clean;
}

/**
 * Deletes every directory we created (its data is our mark) that is empty now, deepest level
 * first. ZooKeeper itself refuses to delete a node with children, and the version check refuses
 * one whose data changed since it was read, so a native provider registering meanwhile wins.
 */
async function sweepDirectories(client: ZkClient, s: RetireSettings): Promise<void> {
  const { root, servicesRoot, stateRoot } = s;
  const ifaces = (await children(client, root)).filter((c) => c !== 'metadata' && c !== 'mapping');
  const levels = [
    [
      ...ifaces.map((i) => `${root}/${i}/providers`),
      ...(await children(client, servicesRoot)).map((a) => `${servicesRoot}/${a}`),
      ...(await children(client, `${root}/metadata`)).map((a) => `${root}/metadata/${a}`),
    ],
    [...ifaces.map((i) => `${root}/${i}`), `${root}/metadata`, `${root}/mapping`],
    [root, servicesRoot, stateRoot],
  ];
  const mark = dirMark(s);
  for (const level of levels) {
    for (let i = 0; i < level.length; i += BATCH) {
      await Promise.all(level.slice(i, i + BATCH).map(async (path) => {
        const read = await getOrUndefined(client, path);
        if (read === undefined || read.stat.numChildren > 0 || read.data?.equals(mark) !== true) return;
        await leaveIfTaken(client.remove(path, read.stat.version));
      }));
    }
  }
}

async function children(client: ZkClient, path: string): Promise<string[]> {
  try {
    return await client.getChildren(path);
  } catch (err) {
    if (zkCode(err) === NO_NODE) return [];
    throw err;
  }
}

async function getOrUndefined(client: ZkClient, path: string): Promise<{ data: Buffer | undefined; stat: ZkStat } | undefined> {
  try {
    return await client.getData(path);
  } catch (err) {
    if (zkCode(err) === NO_NODE) return undefined;
    throw err;
  }
}

async function dataOf(client: ZkClient, path: string): Promise<Buffer | undefined> {
  return (await getOrUndefined(client, path))?.data;
}

/** Runs a conditional write; false when ZooKeeper refused it because the node is gone, used or changed. */
async function leaveIfTaken(write: Promise<void>): Promise<boolean> {
  try {
    await write;
    return true;
  } catch (err) {
    const code = zkCode(err);
    if (code !== undefined && LEAVE.has(code)) return false;
    throw err;
  }
}

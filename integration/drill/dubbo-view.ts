// What a Dubbo interface-level consumer sees in ZooKeeper: the provider URLs of one interface and
// group (the same directory a FORCE_INTERFACE consumer subscribes to).
import { ZkClient, javaUrlDecode, parseDubboUrl } from '../../adapters/dubbo/index.ts';
import { BAD_VERSION, NO_NODE, zkCode } from '../../adapters/dubbo/client.ts';
import type { VisibleInstance } from './sides.ts';

export class DubboView {
  readonly #client: ZkClient;

  constructor(connect: string) {
    this.#client = new ZkClient({ connect, sessionTimeoutMs: 30_000, requestTimeoutMs: 10_000, registry: 'drill-view' });
    this.#client.start();
  }

  async providers(iface: string, group: string): Promise<VisibleInstance[]> {
    let names: string[];
    try {
      names = await this.#client.getChildren(`/dubbo/${iface}/providers`);
    } catch (err) {
      if (zkCode(err) === NO_NODE) return [];
      throw err;
    }
    const out: VisibleInstance[] = [];
    for (const name of names) {
      const decoded = javaUrlDecode(name);
      const parsed = decoded === undefined ? undefined : parseDubboUrl(decoded);
      if (parsed?.ok !== true) continue;
      const p = parsed.url.params;
      // Dubbo consumers skip disabled providers; a group must match exactly.
      if ((p['group'] ?? '') !== group || p['enabled'] === 'false' || p['disabled'] === 'true') continue;
      out.push({ address: parsed.url.host, port: parsed.url.port, exported: p['isthmus.managed-by'] !== undefined, weight: p['weight'] === undefined ? 100 : Number(p['weight']) });
    }
    return out;
  }

  /**
   * Removes what the run's native Dubbo peers leave behind on the shared ZooKeeper (Dubbo never
   * deletes them): the group's service definitions under `/dubbo/metadata/<iface>/<group>`, the
   * emptied `/services/<app>` directory and the app's entry in `/dubbo/mapping/<iface>`. Names
   * are unique to the run, so nothing else is touched. Best effort.
   */
  async removeRunLeftovers(iface: string, group: string, app: string): Promise<void> {
    await this.#removeTree(`/dubbo/metadata/${iface}/${group}`);
    if ((await this.#children(`/services/${app}`)).length === 0) await this.#client.remove(`/services/${app}`).catch(() => undefined);
    const mapping = `/dubbo/mapping/${iface}`;
    for (let attempt = 0; attempt < 5; attempt++) {
      try {
        const { data, stat } = await this.#client.getData(mapping);
        const apps = (data?.toString('utf8') ?? '').split(',').filter((a) => a !== '');
        if (!apps.includes(app)) return;
        await this.#client.setData(mapping, Buffer.from(apps.filter((a) => a !== app).join(',')), stat.version);
        return;
      } catch (err) {
        if (zkCode(err) !== BAD_VERSION) return;
      }
    }
  }

  async #children(path: string): Promise<string[]> {
    try {
      return await this.#client.getChildren(path);
    } catch {
      return [];
    }
  }

  async #removeTree(path: string): Promise<void> {
    for (const child of await this.#children(path)) await this.#removeTree(`${path}/${child}`);
    await this.#client.remove(path).catch(() => undefined);
  }

  close(): void {
    this.#client.close();
  }
}

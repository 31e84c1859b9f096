import type { ServiceRef } from '../../bridge/model/index.ts';
import { GROUP_SEPARATOR, type NacosName } from './native.ts';

/**
 * Nacos identity ↔ canonical ServiceRef (DESIGN §6). A service of the configured default group
 * keeps its bare name; any other group is spelled the way Nacos itself spells a grouped name,
 * `group@@service`, so the mapping is reversible and two groups never collide. The canonical
 * namespace comes from configuration (Nacos namespaces are tenants, not Kubernetes namespaces).
 */
export function refOfName(n: NacosName, defaultGroup: string, namespace: string): ServiceRef {
  return { namespace, name: n.group === defaultGroup ? n.service : `${n.group}${GROUP_SEPARATOR}${n.service}` };
}

export function nameOfRef(ref: ServiceRef, defaultGroup: string): NacosName {
  const at = ref.name.indexOf(GROUP_SEPARATOR);
  if (at > 0) return { group: ref.name.slice(0, at), service: ref.name.slice(at + GROUP_SEPARATOR.length) };
  return { group: defaultGroup, service: ref.name };
}

/** A Dubbo interface-level Nacos service name: `category:interface:version:group`. */
export interface DubboName {
  readonly category: string;
  readonly interface: string;
  readonly version: string;
  readonly group: string;
}

const DUBBO_CATEGORIES = new Set(['providers', 'consumers', 'routers', 'configurators']);

/**
 * Dubbo's NacosServiceName: four `:`-separated parts with empty parts kept, or three with the
 * trailing group left out (`nacos.register-compatible`). Anything else is an application name.
 */
export function parseDubboName(service: string): DubboName | undefined {
  const parts = service.split(':');
  if (parts.length < 3 || parts.length > 4) return undefined;
  const [category = '', iface = '', version = '', group = ''] = parts;
  if (!DUBBO_CATEGORIES.has(category) || iface === '') return undefined;
  return { category, interface: iface, version, group };
}

/** Service-level metadata the model carries for a Dubbo name, so sinks can rebuild it. */
export function dubboMetadata(d: DubboName): Record<string, string> {
  return {
    'dubbo.category': d.category,
    'dubbo.interface': d.interface,
    ...(d.version === '' ? {} : { 'dubbo.version': d.version }),
    ...(d.group === '' ? {} : { 'dubbo.group': d.group }),
  };
}

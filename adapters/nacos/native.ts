/** Nacos wire shapes (JSON bodies of the 2.x/3.x gRPC requests and responses) that we read. */

export interface NacosInstance {
  readonly instanceId?: string;
  readonly ip: string;
  readonly port: number;
  readonly weight?: number;
  readonly healthy?: boolean;
  readonly enabled?: boolean;
  readonly ephemeral?: boolean;
  readonly clusterName?: string;
  readonly serviceName?: string;
  readonly metadata?: Readonly<Record<string, string>> | null;
}

export interface ServiceInfo {
  /** The service name; some servers send it grouped (`group@@name`). */
  readonly name?: string;
  readonly groupName?: string;
  readonly clusters?: string;
  readonly hosts?: readonly NacosInstance[] | null;
  readonly lastRefTime?: number;
  readonly checksum?: string;
}

/** Where a Nacos service lives: namespace id, group and name. */
export interface NacosName {
  readonly group: string;
  readonly service: string;
}

export const DEFAULT_GROUP = 'DEFAULT_GROUP';
export const DEFAULT_CLUSTER = 'DEFAULT';
/** Nacos' separator of group and service in a grouped name (Constants.SERVICE_INFO_SPLITER). */
export const GROUP_SEPARATOR = '@@';

export function groupedName(n: NacosName): string {
  return `${n.group}${GROUP_SEPARATOR}${n.service}`;
}

/**
 * The id Nacos gives an instance registered without one (its default id generator:
 * `ip#port#cluster#group@@service`). Sources report it as the native id; the sink names its
 * writes with it, since that is the id an operator sees in the console.
 */
export function instanceIdOf(n: NacosName, i: Pick<NacosInstance, 'ip' | 'port' | 'clusterName'>): string {
  return `${i.ip}#${i.port}#${i.clusterName ?? DEFAULT_CLUSTER}#${groupedName(n)}`;
}

/** The group and bare name of a ServiceInfo, whichever way the server spelled them. */
export function nameOfInfo(info: ServiceInfo, fallback: NacosName): NacosName {
  const name = info.name ?? fallback.service;
  const at = name.indexOf(GROUP_SEPARATOR);
  if (at >= 0) return { group: name.slice(0, at), service: name.slice(at + GROUP_SEPARATOR.length) };
  return { group: info.groupName ?? fallback.group, service: name };
}

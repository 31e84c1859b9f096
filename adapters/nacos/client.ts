import type { NacosConnection, NacosResponse } from './connection.ts';
import type { NacosInstance, NacosName, ServiceInfo } from './native.ts';

/**
 * Naming requests of the Nacos 2.x/3.x gRPC protocol, on one connection and one namespace.
 * Request and type names are those of the Java SDK's classes (the server dispatches on them).
 */
export class NacosNamingClient {
  readonly connection: NacosConnection;
  readonly namespace: string;

  constructor(connection: NacosConnection, namespace: string) {
    this.connection = connection;
    this.namespace = namespace;
  }

  #service(n: NacosName): Record<string, unknown> {
    return { namespace: this.namespace, groupName: n.group, serviceName: n.service };
  }

  /** Every service name of `group`, page by page (the server caps a page; we never ask for all at once). */
  async listServices(group: string, pageSize: number): Promise<string[]> {
    const names: string[] = [];
    for (let page = 1; ; page++) {
      const res = await this.connection.request<NacosResponse & { count?: number; serviceNames?: string[] | null }>('ServiceListRequest', {
        namespace: this.namespace,
        groupName: group,
        serviceName: '',
        pageNo: page,
        pageSize,
        selector: '',
      });
      const batch = res.serviceNames ?? [];
      names.push(...batch);
      if (batch.length < pageSize || names.length >= (res.count ?? 0)) return names;
    }
  }

  /** The service's instances, unhealthy ones included (disabled ones are never returned by Nacos). */
  async query(n: NacosName): Promise<ServiceInfo> {
    const res = await this.connection.request<NacosResponse & { serviceInfo?: ServiceInfo }>('ServiceQueryRequest', {
      ...this.#service(n),
      cluster: '',
      healthyOnly: false,
      udpPort: 0,
    });
    return res.serviceInfo ?? { hosts: [] };
  }

  /** Subscribes the connection to pushes of `n` and returns the current state. */
  async subscribe(n: NacosName): Promise<ServiceInfo> {
    const res = await this.connection.request<NacosResponse & { serviceInfo?: ServiceInfo }>('SubscribeServiceRequest', { ...this.#service(n), clusters: '', subscribe: true });
    return res.serviceInfo ?? { hosts: [] };
  }

  async unsubscribe(n: NacosName): Promise<void> {
    await this.connection.request('SubscribeServiceRequest', { ...this.#service(n), clusters: '', subscribe: false });
  }

  /**
   * Publishes exactly `instances` as this connection's ephemeral instances of `n`: the server
   * keeps one publish record per (connection, service) and a batch replaces it whole.
   */
  async batchRegister(n: NacosName, instances: readonly NacosInstance[]): Promise<void> {
    await this.connection.request('BatchInstanceRequest', { ...this.#service(n), type: 'batchRegisterInstance', instances }, { write: true });
  }

  async deregisterEphemeral(n: NacosName, instance: NacosInstance): Promise<void> {
    await this.connection.request('InstanceRequest', { ...this.#service(n), type: 'deregisterInstance', instance }, { write: true });
  }

  /** Persistent instances are server-side records, one request each (there is no batch). */
  async registerPersistent(n: NacosName, instance: NacosInstance): Promise<void> {
    await this.connection.request('PersistentInstanceRequest', { ...this.#service(n), type: 'registerInstance', instance }, { write: true });
  }

  async deregisterPersistent(n: NacosName, instance: NacosInstance): Promise<void> {
    await this.connection.request('PersistentInstanceRequest', { ...this.#service(n), type: 'deregisterInstance', instance }, { write: true });
  }
}

// Pinned versions. The Go versions must match the go.mod files under go/, the Nacos and Eureka
// ones the pom.xml under maven/nacos and maven/eureka; the build cache keys include a hash of
// those files as well.

export const KUBERNETES_VERSION = 'v1.36.3';
export const ETCD_VERSION = 'v3.6.8';
export const CONSUL_VERSION = 'v1.22.7';
/** io.github.pig-mesh.nacos republication of Nacos 3.1.0 (the only nacos-server on Central). */
export const NACOS_VERSION = '3.1.0-bugfix';
/** Debian bookworm's package; whatever apt installs is what runs, this is only for display. */
export const ZOOKEEPER_DEBIAN_PACKAGE = 'zookeeper';
/** spring-cloud-netflix-eureka-server as managed by spring-cloud-dependencies 2025.0.0 (Boot 3.5.7). */
export const EUREKA_VERSION = '4.3.0';

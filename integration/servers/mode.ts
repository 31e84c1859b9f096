// ISTHMUS_TEST_SERVERS=docker|local|auto. Only the local (no-Docker) path exists in this build;
// "auto" therefore always means local, and "docker" fails up front with the reason.
import { existsSync } from 'node:fs';

export type ServerMode = 'local' | 'docker' | 'auto';

export function requestedMode(): ServerMode {
  const raw = (process.env.ISTHMUS_TEST_SERVERS ?? 'auto').trim().toLowerCase();
  if (raw === 'local' || raw === 'docker' || raw === 'auto') return raw;
  throw new Error(`ISTHMUS_TEST_SERVERS=${raw}: expected docker, local or auto`);
}

function dockerAvailable(): boolean {
  const host = process.env.DOCKER_HOST;
  if (host !== undefined && host !== '') return true;
  return existsSync('/var/run/docker.sock');
}

/** The mode actually used; throws for an explicit docker request. */
export function resolveMode(): 'local' {
  const mode = requestedMode();
  if (mode !== 'docker') return 'local';
  if (!dockerAvailable()) {
    throw new Error('ISTHMUS_TEST_SERVERS=docker but no Docker engine is reachable (no DOCKER_HOST, no /var/run/docker.sock); use local or auto');
  }
  throw new Error('ISTHMUS_TEST_SERVERS=docker is not supported in this build; use local or auto (both run the servers as local processes)');
}

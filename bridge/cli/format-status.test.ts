import { describe, expect, it } from 'vitest';
import type { BridgeStatus } from '../sync/status.ts';
import { formatStatus } from './format-status.ts';

const NOW = 1_800_000_000_000;

function status(notices?: BridgeStatus['sources'][number]['health']['notices']): BridgeStatus {
  return {
    bridgeId: 'b1',
    leader: true,
    sources: [
      { id: 'k8s', synced: true, services: 3, health: { reachable: true, lastContact: NOW - 2000, ...(notices === undefined ? {} : { notices }) } },
      { id: 'consul', synced: true, services: 1, health: { reachable: true, lastContact: NOW - 1000 } },
    ],
    routes: [{ id: 'export', from: ['k8s'], to: 'consul' }],
    queueDepth: 0,
    held: [],
    quarantined: [],
    errors: [],
  };
}

describe('formatStatus notices', () => {
  it('lists each source notice with its service and reason', () => {
    const reason = 'STRICT mTLS (PeerAuthentication shop/strict-orders) refuses plaintext from VM callers on shop/orders';
    const text = formatStatus(status([
      { code: 'mtls-strict', ref: { namespace: 'shop', name: 'orders' }, reason },
      { code: 'mtls-unreadable', reason: 'PeerAuthentication not readable: CRD peerauthentications.security.istio.io is not installed' },
    ]), NOW);
    expect(text).toContain('\nNOTICES (2)\n');
    expect(text).toMatch(/REGISTRY +SERVICE +REASON\n/);
    expect(text).toMatch(new RegExp(`k8s +shop/orders +${reason.replace(/[()/]/g, '\\$&')}\n`));
    expect(text).toMatch(/k8s +- +PeerAuthentication not readable: CRD peerauthentications\.security\.istio\.io is not installed\n/);
  });

  it('says none when no source has a notice', () => {
    expect(formatStatus(status(), NOW)).toContain('\nNOTICES: none\n');
    expect(formatStatus(status([]), NOW)).toContain('\nNOTICES: none\n');
  });
});

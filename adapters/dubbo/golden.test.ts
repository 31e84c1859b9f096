import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { ServiceSnapshot } from '../../bridge/model/index.ts';
import { planExport, type ExportSettings } from './encode.ts';

// Golden identifiers: the znode paths, instance bytes and MetadataInfo revision the sink writes
// for one fixed input, pinned as literals. A change here means an upgraded bridge would not
// recognise the nodes its previous version wrote (they would be orphaned or rewritten): if it
// is intended, it needs a migration note, not just new literals.

const S: ExportSettings = { bridgeId: 'golden-bridge', root: '/dubbo', servicesRoot: '/services', defaultProtocol: 'dubbo', release: '3.3.2', persistent: false };
const DESIRED: ServiceSnapshot = {
  ref: { namespace: 'shop', name: 'greeter' },
  ports: [{ name: 'dubbo', port: 20880 }],
  endpoints: [
    { address: '10.1.0.1', ports: { dubbo: 20880 }, ready: true, serving: true, terminating: false, weight: 100, metadata: {}, origin: { registry: 'k8s', nativeId: 'shop/greeter-0' } },
    { address: '10.1.0.2', ports: { dubbo: 20880, http: 8080 }, ready: true, serving: true, terminating: false, weight: 40, metadata: {}, origin: { registry: 'k8s', nativeId: 'shop/greeter-1' } },
  ],
  metadata: { 'isthmus.dev/dubbo-interfaces': 'com.acme.Greeter:1.0.0,com.acme.Admin::blue', 'isthmus.dev/dubbo-application': 'greeter-app' },
  origin: 'k8s',
};

const GOLDEN = {
  ephemeral: {
    nodes: [
      '/dubbo/com.acme.Greeter/providers/dubbo%3A%2F%2F10.1.0.1%3A20880%2Fcom.acme.Greeter%3Fanyhost%3Dfalse%26application%3Dgreeter-app%26deprecated%3Dfalse%26dubbo%3D2.0.2%26dynamic%3Dtrue%26generic%3Dfalse%26interface%3Dcom.acme.Greeter%26isthmus.managed-by%3Dgolden-bridge%26isthmus.origin%3Dk8s%26isthmus.origin-id%3Dshop%252Fgreeter-0%26isthmus.port-name%3Ddubbo%26isthmus.ref%3Dshop%252Fgreeter%26isthmus.session%3D0123456789abcdef%26release%3D3.3.2%26service-name-mapping%3Dtrue%26side%3Dprovider%26version%3D1.0.0%26weight%3D100',
      '/dubbo/com.acme.Admin/providers/dubbo%3A%2F%2F10.1.0.1%3A20880%2Fcom.acme.Admin%3Fanyhost%3Dfalse%26application%3Dgreeter-app%26deprecated%3Dfalse%26dubbo%3D2.0.2%26dynamic%3Dtrue%26generic%3Dfalse%26group%3Dblue%26interface%3Dcom.acme.Admin%26isthmus.managed-by%3Dgolden-bridge%26isthmus.origin%3Dk8s%26isthmus.origin-id%3Dshop%252Fgreeter-0%26isthmus.port-name%3Ddubbo%26isthmus.ref%3Dshop%252Fgreeter%26isthmus.session%3D0123456789abcdef%26release%3D3.3.2%26service-name-mapping%3Dtrue%26side%3Dprovider%26weight%3D100',
      '/services/greeter-app/10.1.0.1:20880',
      '/dubbo/com.acme.Greeter/providers/dubbo%3A%2F%2F10.1.0.2%3A20880%2Fcom.acme.Greeter%3Fanyhost%3Dfalse%26application%3Dgreeter-app%26deprecated%3Dfalse%26dubbo%3D2.0.2%26dynamic%3Dtrue%26generic%3Dfalse%26interface%3Dcom.acme.Greeter%26isthmus.managed-by%3Dgolden-bridge%26isthmus.origin%3Dk8s%26isthmus.origin-id%3Dshop%252Fgreeter-1%26isthmus.port-name%3Ddubbo%26isthmus.ref%3Dshop%252Fgreeter%26isthmus.session%3D0123456789abcdef%26release%3D3.3.2%26service-name-mapping%3Dtrue%26side%3Dprovider%26version%3D1.0.0%26weight%3D40',
      '/dubbo/com.acme.Admin/providers/dubbo%3A%2F%2F10.1.0.2%3A20880%2Fcom.acme.Admin%3Fanyhost%3Dfalse%26application%3Dgreeter-app%26deprecated%3Dfalse%26dubbo%3D2.0.2%26dynamic%3Dtrue%26generic%3Dfalse%26group%3Dblue%26interface%3Dcom.acme.Admin%26isthmus.managed-by%3Dgolden-bridge%26isthmus.origin%3Dk8s%26isthmus.origin-id%3Dshop%252Fgreeter-1%26isthmus.port-name%3Ddubbo%26isthmus.ref%3Dshop%252Fgreeter%26isthmus.session%3D0123456789abcdef%26release%3D3.3.2%26service-name-mapping%3Dtrue%26side%3Dprovider%26weight%3D40',
      '/services/greeter-app/10.1.0.2:20880',
    ],
    metadata: '/dubbo/metadata/greeter-app/b088518614a7552d0073eaadaeee0e82',
    mappings: ['/dubbo/mapping/com.acme.Greeter', '/dubbo/mapping/com.acme.Admin'],
    instanceSha256: ['bba835aebd172dcab49643f1fec40ef67221d20f832db55535db1ee06eac71e1', '8445409baee8db655770186e57b9d0025121dac30c19c8c9c088e4164a10d289'],
    metadataSha256: 'aa8919931e0a5f8884af8a05cb4e5175184912240c0c47863d88972953f17e50',
  },
  persistent: {
    nodes: [
      '/dubbo/com.acme.Greeter/providers/dubbo%3A%2F%2F10.1.0.1%3A20880%2Fcom.acme.Greeter%3Fanyhost%3Dfalse%26application%3Dgreeter-app%26deprecated%3Dfalse%26dubbo%3D2.0.2%26dynamic%3Dfalse%26generic%3Dfalse%26interface%3Dcom.acme.Greeter%26isthmus.managed-by%3Dgolden-bridge%26isthmus.origin%3Dk8s%26isthmus.origin-id%3Dshop%252Fgreeter-0%26isthmus.port-name%3Ddubbo%26isthmus.ref%3Dshop%252Fgreeter%26release%3D3.3.2%26service-name-mapping%3Dtrue%26side%3Dprovider%26version%3D1.0.0%26weight%3D100',
      '/dubbo/com.acme.Admin/providers/dubbo%3A%2F%2F10.1.0.1%3A20880%2Fcom.acme.Admin%3Fanyhost%3Dfalse%26application%3Dgreeter-app%26deprecated%3Dfalse%26dubbo%3D2.0.2%26dynamic%3Dfalse%26generic%3Dfalse%26group%3Dblue%26interface%3Dcom.acme.Admin%26isthmus.managed-by%3Dgolden-bridge%26isthmus.origin%3Dk8s%26isthmus.origin-id%3Dshop%252Fgreeter-0%26isthmus.port-name%3Ddubbo%26isthmus.ref%3Dshop%252Fgreeter%26release%3D3.3.2%26service-name-mapping%3Dtrue%26side%3Dprovider%26weight%3D100',
      '/services/greeter-app/10.1.0.1:20880',
      '/dubbo/com.acme.Greeter/providers/dubbo%3A%2F%2F10.1.0.2%3A20880%2Fcom.acme.Greeter%3Fanyhost%3Dfalse%26application%3Dgreeter-app%26deprecated%3Dfalse%26dubbo%3D2.0.2%26dynamic%3Dfalse%26generic%3Dfalse%26interface%3Dcom.acme.Greeter%26isthmus.managed-by%3Dgolden-bridge%26isthmus.origin%3Dk8s%26isthmus.origin-id%3Dshop%252Fgreeter-1%26isthmus.port-name%3Ddubbo%26isthmus.ref%3Dshop%252Fgreeter%26release%3D3.3.2%26service-name-mapping%3Dtrue%26side%3Dprovider%26version%3D1.0.0%26weight%3D40',
      '/dubbo/com.acme.Admin/providers/dubbo%3A%2F%2F10.1.0.2%3A20880%2Fcom.acme.Admin%3Fanyhost%3Dfalse%26application%3Dgreeter-app%26deprecated%3Dfalse%26dubbo%3D2.0.2%26dynamic%3Dfalse%26generic%3Dfalse%26group%3Dblue%26interface%3Dcom.acme.Admin%26isthmus.managed-by%3Dgolden-bridge%26isthmus.origin%3Dk8s%26isthmus.origin-id%3Dshop%252Fgreeter-1%26isthmus.port-name%3Ddubbo%26isthmus.ref%3Dshop%252Fgreeter%26release%3D3.3.2%26service-name-mapping%3Dtrue%26side%3Dprovider%26weight%3D40',
      '/services/greeter-app/10.1.0.2:20880',
    ],
    metadata: '/dubbo/metadata/greeter-app/17c47bd0e28fe867248415e996d2baa8',
    mappings: ['/dubbo/mapping/com.acme.Greeter', '/dubbo/mapping/com.acme.Admin'],
    instanceSha256: ['73f09ffad70214e8654ec55c3c4a6536ab25a0add114fe13f0931adfd981c252', '333e2d3c6619533f533460c0c7b8d8ad3cb2235a37906b067c3b8fe8944a3920'],
    metadataSha256: '357f9ed852fa64fef83c4f3e95439066b14c715e79804945acb87ce41ed0086e',
  },
};

const sha256 = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

describe('dubbo golden identifiers', () => {
  for (const [mode, settings, session] of [['ephemeral', S, '0123456789abcdef'], ['persistent', { ...S, persistent: true }, '']] as const) {
    it(`${mode}: provider paths, instance path and bytes, metadata revision are unchanged`, () => {
      const plan = planExport(DESIRED, settings, session);
      const want = GOLDEN[mode];
      expect(plan.nodes.map((n) => n.path)).toEqual(want.nodes);
      expect(plan.metadata?.path).toBe(want.metadata);
      expect(plan.mappings).toEqual(want.mappings);
      expect(plan.nodes.filter((n) => n.path.startsWith('/services/')).map((n) => sha256(n.data))).toEqual(want.instanceSha256);
      expect(plan.metadata === undefined ? undefined : sha256(plan.metadata.data)).toBe(want.metadataSha256);
      const revision = want.metadata.slice(want.metadata.lastIndexOf('/') + 1);
      for (const n of plan.nodes.filter((x) => x.path.startsWith('/services/'))) {
        const doc = JSON.parse(n.data.toString('utf8')) as { id: string; payload: { metadata: Record<string, string> } };
        expect(n.path.endsWith(`/${doc.id}`)).toBe(true);
        expect(doc.payload.metadata['dubbo.metadata.revision']).toBe(revision);
      }
    });
  }
});

// `npm run peers:build`: builds the Java peers (Spring Cloud, Dubbo) with Maven into their
// caches before the tests need them, so a first CI run downloads the frameworks here, with
// progress, instead of inside a test's timeout. A rerun with unchanged sources is a no-op.
import { buildDubboPeers } from './dubbo/peers.ts';
import { ensureSpringPeersJar } from './spring/build.ts';

const log = (line: string): void => {
  process.stdout.write(`[${new Date().toISOString().slice(11, 19)}] ${line}\n`);
};

log('spring peers: building (first run downloads Spring Boot and Spring Cloud from Maven Central)');
const spring = await ensureSpringPeersJar((message) => { log(`spring peers: ${message}`); });
log(`spring peers: ${JSON.stringify(spring)}`);
log('dubbo peers: building (first run downloads Dubbo from Maven Central)');
const dubbo = await buildDubboPeers((line) => { log(`dubbo peers: ${line}`); });
log(`dubbo peers: ready (${dubbo.length > 120 ? `${dubbo.slice(0, 120)}…` : dubbo})`);

// Builds a Java server of ours (a small Maven project under maven/<name>) into the cache: compiled
// classes plus its runtime jars in lib/, run with `java -cp classes:lib/*`. The output directory
// carries the pinned version and a hash of the project, so a bump or an edit rebuilds and a rerun
// is a no-op.
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { ensurePackages, packagesForCommands } from './apt.ts';
import { cacheDir, descriptorsDir } from './paths.ts';
import type { ProgressListener } from './progress.ts';
import { runCommand } from './run-command.ts';

export interface MavenServerSpec {
  /** The server's name: its project under maven/, its cache directory, its build log. */
  readonly name: string;
  readonly version: string;
}

const COMMAND_PACKAGES = { java: 'openjdk-17-jdk-headless', javac: 'openjdk-17-jdk-headless', mvn: 'maven' };

function projectDir(spec: MavenServerSpec): string {
  return join(descriptorsDir, 'maven', spec.name);
}

async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  return entries
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name))
    .sort();
}

/** Output dir keyed by the pom and the project's sources, so editing either rebuilds. */
export async function mavenOutputDir(spec: MavenServerSpec): Promise<string> {
  const project = projectDir(spec);
  const hash = createHash('sha256');
  for (const file of [join(project, 'pom.xml'), ...(await filesUnder(join(project, 'src')))]) {
    hash.update(relative(project, file));
    hash.update(await readFile(file));
  }
  return join(cacheDir(), spec.name, `${spec.version}-${hash.digest('hex').slice(0, 10)}`);
}

/** Whether the build is in the cache; a build cut short leaves no marker and does not count. */
export async function isMavenServerBuilt(spec: MavenServerSpec): Promise<boolean> {
  return existsSync(join(await mavenOutputDir(spec), '.complete'));
}

/** The built server (classes + lib/), built first when needed. */
export async function buildMavenServer(spec: MavenServerSpec, onProgress: ProgressListener): Promise<string> {
  const out = await mavenOutputDir(spec);
  const marker = join(out, '.complete');
  if (existsSync(marker)) return out;
  await ensurePackages(spec.name, [...new Set(await packagesForCommands(COMMAND_PACKAGES))], onProgress);
  await rm(out, { recursive: true, force: true });
  const args = [
    '-B',
    '--no-transfer-progress',
    `-Dmaven.repo.local=${join(cacheDir(), 'm2')}`,
    `-Disthmus.out=${out}`,
    'compile',
    'dependency:copy-dependencies',
    '-DincludeScope=runtime',
    `-DoutputDirectory=${join(out, 'lib')}`,
  ];
  await runCommand('mvn', args, {
    server: spec.name,
    label: `maven resolve + compile ${spec.name} ${spec.version}`,
    cwd: projectDir(spec),
    logPath: join(cacheDir(), 'logs', `build-${spec.name}.log`),
    onProgress,
  });
  await writeFile(marker, `${new Date().toISOString()}\n`);
  return out;
}

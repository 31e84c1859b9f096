// Debian packages the harness relies on. Go is deliberately absent: bookworm's golang is far too
// old for these modules, so a missing Go is reported, not installed.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { ProgressListener } from './progress.ts';
import { runCommand } from './run-command.ts';
import { join } from 'node:path';
import { cacheDir } from './paths.ts';

const exec = promisify(execFile);

async function installed(pkg: string): Promise<boolean> {
  try {
    const { stdout } = await exec('dpkg-query', ['-W', '-f=${Status}', pkg]);
    return stdout.includes('install ok installed');
  } catch {
    return false;
  }
}

async function hasCommand(command: string): Promise<boolean> {
  try {
    await exec('sh', ['-c', `command -v ${command}`]);
    return true;
  } catch {
    return false;
  }
}

/** Packages to install when the given commands are missing (a JDK may come from elsewhere). */
export async function packagesForCommands(map: Readonly<Record<string, string>>): Promise<string[]> {
  const out: string[] = [];
  for (const [command, pkg] of Object.entries(map)) if (!(await hasCommand(command))) out.push(pkg);
  return out;
}

export async function missingPackages(pkgs: readonly string[]): Promise<string[]> {
  const out: string[] = [];
  for (const pkg of pkgs) if (!(await installed(pkg))) out.push(pkg);
  return out;
}

let updated = false;

export async function ensurePackages(server: string, pkgs: readonly string[], onProgress: ProgressListener): Promise<void> {
  const missing = await missingPackages(pkgs);
  if (missing.length === 0) return;
  const command = `apt-get update && apt-get install -y --no-install-recommends ${missing.join(' ')}`;
  if (process.getuid?.() !== 0) {
    throw new Error(`${server}: missing Debian packages ${missing.join(', ')}; as root run:\n  ${command}`);
  }
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const logPath = join(cacheDir(), 'logs', 'apt.log');
  const common = { server, cwd: '/', env, logPath, onProgress };
  if (!updated) {
    await runCommand('apt-get', ['update'], { ...common, label: 'apt-get update' });
    updated = true;
  }
  await runCommand('apt-get', ['install', '-y', '--no-install-recommends', ...missing], {
    ...common,
    label: `apt-get install ${missing.join(' ')}`,
  });
}

export async function requireCommand(command: string, hint: string): Promise<void> {
  if (!(await hasCommand(command))) throw new Error(`${command} not found on PATH: ${hint}`);
}

// Real OCI containers on this kind of machine: podman + runc as root, host networking, and a
// Node base image made locally (no registry is reachable), following shared/recipes/containers.sh.
import { execFile, execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const DEBIAN_IMAGE = 'localhost/debian:bookworm';
/** The host's own node and npm on that base, tagged by version so a Node upgrade makes a new one. */
export const NODE_IMAGE = `localhost/icarus-node:${process.version}-bookworm`;

/**
 * The environment podman needs here: the runc runtime (crun refuses this kernel's hybrid
 * cgroups) and no default ulimits (raising RLIMIT_NPROC is forbidden in this sandbox).
 */
export function podmanEnv(): NodeJS.ProcessEnv {
  const dir = join(tmpdir(), 'icarus-podman');
  mkdirSync(dir, { recursive: true });
  const conf = join(dir, 'containers.conf');
  writeFileSync(conf, '[containers]\ndefault_ulimits = []\n[engine]\nruntime = "runc"\n');
  return { ...process.env, CONTAINERS_CONF: conf };
}

/** Fails (never skips) where podman is missing: CI installs it, and a skip would hide that. */
export function requirePodman(): void {
  try {
    execFileSync('podman', ['--version'], { stdio: 'ignore' });
  } catch {
    throw new Error('podman is not installed: `apt-get install -y podman runc mmdebstrap` (.ci/run installs them) to run the container tests');
  }
}

export async function podman(args: string[], options: { timeoutMs?: number } = {}): Promise<string> {
  const { stdout } = await run('podman', args, { env: podmanEnv(), timeout: options.timeoutMs ?? 60_000, maxBuffer: 64 * 1024 * 1024 });
  return stdout.trim();
}

async function imageExists(name: string): Promise<boolean> {
  return podman(['image', 'exists', name]).then(
    () => true,
    () => false,
  );
}

/** The Node base image, made once per machine (~2 min the first time, then cached by podman). */
export async function ensureNodeImage(): Promise<string> {
  if (await imageExists(NODE_IMAGE)) return NODE_IMAGE;
  const work = mkdtempSync(join(tmpdir(), 'icarus-base-'));
  try {
    if (!(await imageExists(DEBIAN_IMAGE))) {
      const tar = join(work, 'base.tar');
      await run('mmdebstrap', ['--variant=minbase', '--include=ca-certificates,libstdc++6', 'bookworm', tar], {
        timeout: 600_000,
        maxBuffer: 64 * 1024 * 1024,
      });
      await podman(['import', tar, DEBIAN_IMAGE], { timeoutMs: 300_000 });
    }
    // As the official image lays them out: node in /usr/local/bin, npm beside it.
    const nodeBin = execFileSync('sh', ['-c', 'readlink -f "$(command -v node)"'], { encoding: 'utf8' }).trim();
    const npmDir = join(dirname(execFileSync('sh', ['-c', 'readlink -f "$(command -v npm)"'], { encoding: 'utf8' }).trim()), '..');
    if (!existsSync(join(npmDir, 'package.json'))) throw new Error(`npm not found beside ${npmDir}`);
    cpSync(nodeBin, join(work, 'node'));
    cpSync(npmDir, join(work, 'npm'), { recursive: true });
    writeFileSync(
      join(work, 'Containerfile'),
      [
        `FROM ${DEBIAN_IMAGE}`,
        'COPY node /usr/local/bin/node',
        'COPY npm /usr/local/lib/node_modules/npm',
        'RUN ln -s ../lib/node_modules/npm/bin/npm-cli.js /usr/local/bin/npm && ln -s ../lib/node_modules/npm/bin/npx-cli.js /usr/local/bin/npx',
        '',
      ].join('\n'),
    );
    await podman(['build', '--network=host', '--isolation=chroot', '-t', NODE_IMAGE, work], { timeoutMs: 300_000 });
    return NODE_IMAGE;
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

const repoRoot = new URL('../..', import.meta.url).pathname;

/**
 * Builds the repository's Dockerfile on the local Node image. Where npm's registry is reached
 * through a TLS-inspecting proxy (NODE_EXTRA_CA_CERTS on this machine), that CA file is mounted
 * for the build stages only; the runtime image never sees it.
 */
export async function buildCloudImage(tag: string): Promise<void> {
  const base = await ensureNodeImage();
  const ca = process.env.NODE_EXTRA_CA_CERTS;
  const caArgs = ca && existsSync(ca) ? ['--volume', `${ca}:/run/build-ca.pem:ro`, '--build-arg', 'NODE_EXTRA_CA_CERTS=/run/build-ca.pem'] : [];
  await podman(['build', '--format', 'docker', '--network=host', '--isolation=chroot', '--build-arg', `NODE_IMAGE=${base}`, ...caArgs, '-t', tag, repoRoot], {
    timeoutMs: 900_000,
  });
}

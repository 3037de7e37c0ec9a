/**
 * The headless agent's .deb, for real: build it, verify its signed checksums, install it into this
 * machine with dpkg -i, read the managed config from /etc/icarus-nova/agent.json, run the systemd
 * unit's ExecStart itself (no systemd here), sync to a local cloud, then dpkg -r and check that
 * nothing the package installed is left but its conffile (inert without the agent), while the
 * person's data is; dpkg --purge then removes the rest. Lintian, Debian's own package checker,
 * must find no error and no warning in it.
 */
import { execFile, spawn } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { cpSync, existsSync, lstatSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestCloud, type TestCloud } from '../../cloud/test/support/cloud';
import { AgentStore } from '../../desktop-agent/src/core/store/store';
import { startXDisplay, type XDisplay } from '../helpers/xdisplay';

const run = promisify(execFile);
const ROOT = new URL('../../', import.meta.url).pathname;
const MANAGED = '/etc/icarus-nova/agent.json';
const UNIT = 'icarus-agent.service';
const AUTOSTART = '/etc/xdg/autostart/icarus-agent.desktop';
const hasDpkg = existsSync('/usr/bin/dpkg') && existsSync('/usr/bin/dpkg-deb');
if (!hasDpkg) console.log('deb-install: skipped, dpkg/dpkg-deb are not present on this machine');

async function sh(
  cmd: string,
  args: string[],
  env: NodeJS.ProcessEnv = process.env,
  input?: string,
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = execFile(cmd, args, { env, timeout: 120_000 }, (error, stdout, stderr) =>
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr }),
    );
    // A command that exits without reading its input closes the pipe: not a test failure.
    child.stdin?.on('error', () => {});
    child.stdin?.end(input ?? '');
  });
}

describe.skipIf(!hasDpkg)('headless agent .deb: build, verify, install, run, sync, remove', () => {
  let cloud: TestCloud;
  let x: XDisplay;
  const work = mkdtempSync(join(tmpdir(), 'icarus-deb-'));
  const home = join(work, 'home');
  const out = join(work, 'out');
  const savedManaged = existsSync(MANAGED) ? readFileSync(MANAGED) : undefined;

  beforeAll(async () => {
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    writeFileSync(join(work, 'release.pem'), privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
    writeFileSync(join(work, 'release.pub.pem'), publicKey.export({ type: 'spki', format: 'pem' }));
    [cloud, x] = await Promise.all([
      startTestCloud(),
      startXDisplay(),
      run('sh', [join(ROOT, 'installers/linux/build-deb.sh'), out, join(work, 'release.pem')], { cwd: ROOT }),
    ]);
  }, 180_000);

  const debFile = () => join(out, readFileSync(join(out, 'SHA256SUMS'), 'utf8').trim().split(/\s+/)[1] ?? '');
  /** Every entry under /etc/systemd/user that names the agent's unit (enable links, masks). */
  const unitLinks = (dir = '/etc/systemd/user'): string[] =>
    !existsSync(dir)
      ? []
      : readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? unitLinks(join(dir, e.name)) : e.name === UNIT ? [join(dir, e.name)] : []));

  afterAll(async () => {
    await sh('dpkg', ['--purge', 'icarus-nova-agent']);
    if (savedManaged) writeFileSync(MANAGED, savedManaged);
    else rmSync(MANAGED, { force: true });
    await Promise.all([x?.close(), cloud?.stopAll()]);
    rmSync(work, { recursive: true, force: true });
  });

  it('refuses a package whose signed checksums do not verify', async () => {
    const bad = join(work, 'tampered');
    cpSync(out, bad, { recursive: true });
    const other = generateKeyPairSync('ed25519').publicKey.export({ type: 'spki', format: 'pem' });
    writeFileSync(join(work, 'other.pub.pem'), other);
    const wrongKey = await sh('sh', [join(bad, 'verify-and-install.sh'), join(work, 'other.pub.pem')]);
    expect(wrongKey.code).toBe(2);
    expect(wrongKey.stderr).toContain('REFUSED');
    // SHA256SUMS reads "<hex>  <file>": append a byte to that file.
    const deb = readFileSync(join(bad, 'SHA256SUMS'), 'utf8').trim().split(/\s+/)[1] ?? '';
    writeFileSync(join(bad, deb), Buffer.concat([readFileSync(join(bad, deb)), Buffer.from('x')]));
    const altered = await sh('sh', [join(bad, 'verify-and-install.sh'), join(work, 'release.pub.pem')]);
    expect(altered.code).toBe(3);
  });

  it('passes lintian with no error and no warning, and has what Debian asks of a package', async () => {
    // .ci/run installs lintian; a machine with dpkg but no lintian must not pass this silently.
    expect(existsSync('/usr/bin/lintian'), 'lintian is not installed: apt-get install lintian').toBe(true);
    const lint = await sh('lintian', ['--fail-on', 'error,warning', '--no-tag-display-limit', debFile()]);
    const findings = lint.stdout.split('\n').filter((l) => /^[EW]: /.test(l));
    expect(findings, lint.stdout + lint.stderr).toEqual([]);
    expect(lint.code, lint.stdout + lint.stderr).toBe(0);
    // What a person or IT reads: a manual page for the command, the licences, the changelog.
    const files = (await sh('dpkg-deb', ['-c', debFile()])).stdout;
    for (const f of ['./usr/share/man/man1/icarus-agent.1.gz', './usr/share/doc/icarus-nova-agent/copyright', './usr/share/doc/icarus-nova-agent/changelog.gz'])
      expect(files).toContain(f);
    // Only what runs on Linux: no macOS/Windows binaries, tests, docs or npm files from node_modules.
    const modules = files
      .split('\n')
      .filter((l) => l.includes('/node_modules/'))
      .map((l) => l.split(/\s+/).pop() ?? '');
    expect(modules.filter((f) => /\/(test|tests|docs?)\/|\.(md|npmignore|travis\.yml|d\.ts)$|darwin|win32|LICEN[CS]E/i.test(f))).toEqual([]);
    expect(modules.filter((f) => f.endsWith('.node'))).toEqual(['./usr/lib/icarus-nova/node_modules/better-sqlite3/build/Release/better_sqlite3.node']);
    // The signed-update installer: a root path unit on the spool and the oneshot it starts.
    for (const f of ['./usr/lib/systemd/system/icarus-agent-update.path', './usr/lib/systemd/system/icarus-agent-update.service']) expect(files).toContain(f);
    // lintian takes 15 s on a quiet machine and several times that on a loaded one.
  }, 180_000);

  it('depends on the Node major it was built with, so dpkg will not install it next to another', async () => {
    const major = Number(process.versions.node.split('.')[0]);
    const depends = (await sh('dpkg-deb', ['-f', debFile(), 'Depends'])).stdout.trim();
    const nodejs = depends.split(/,\s*/).filter((d) => d.startsWith('nodejs'));
    expect(nodejs).toEqual([`nodejs (>= ${major})`, `nodejs (<< ${major + 1})`]);
    // dpkg's own version comparison, with versions the way nodesource and Debian spell them.
    const satisfies = async (version: string) => {
      for (const [, op = '', bound = ''] of nodejs.map((d) => /\((\S+) (\S+)\)/.exec(d) ?? [])) {
        const r = await sh('dpkg', ['--compare-versions', version, op === '>=' ? 'ge' : op === '<<' ? 'lt' : op, bound]);
        if (r.code !== 0) return false;
      }
      return true;
    };
    expect(await satisfies(`${process.versions.node}-1nodesource1`)).toBe(true);
    expect(await satisfies(`${major}.0.0+dfsg-1`)).toBe(true);
    expect(await satisfies(`${major + 2}.11.1-1nodesource1`)).toBe(false);
    expect(await satisfies(`${major + 1}.0.0-1nodesource1`)).toBe(false);
    expect(await satisfies(`${major - 2}.19.2+dfsg-1`)).toBe(false);
  });

  it('installs, reads managed config, runs the unit ExecStart, syncs, and uninstalls cleanly', { timeout: 120_000 }, async () => {
    // IT's managed config, as a silent deployment writes it before installing.
    await sh('mkdir', ['-p', '/etc/icarus-nova']);
    writeFileSync(MANAGED, JSON.stringify({ server: cloud.url, enrollmentToken: cloud.enrollmentToken, sampleIntervalMs: 250, syncIntervalMs: 1000 }));

    const install = await sh('sh', [join(out, 'verify-and-install.sh'), join(work, 'release.pub.pem')]);
    expect(install.code, install.stderr).toBe(0);
    expect(install.stdout).toContain('verified: icarus-nova-agent_');
    const listed = (await sh('dpkg', ['-L', 'icarus-nova-agent'])).stdout.split('\n').filter((p) => p.startsWith('/'));
    const installedFiles = listed.filter((p) => existsSync(p) && statSync(p).isFile());
    expect(installedFiles).toEqual(
      expect.arrayContaining([
        '/usr/bin/icarus-agent',
        '/usr/lib/systemd/user/icarus-agent.service',
        AUTOSTART,
        '/usr/lib/icarus-nova/node_modules/better-sqlite3/build/Release/better_sqlite3.node',
      ]),
    );
    // The unit is enabled for every user's session, as `systemctl --global enable` would.
    expect(readlinkSync('/etc/systemd/user/default.target.wants/icarus-agent.service')).toBe('/usr/lib/systemd/user/icarus-agent.service');
    // `man icarus-agent` finds the page and it covers every command the agent has.
    const page = await sh('man', ['-P', 'cat', 'icarus-agent'], { ...process.env, MANWIDTH: '100' });
    expect(page.code, page.stderr).toBe(0);
    for (const command of ['enroll', 'run', 'ui', 'status', 'consent', 'withdraw', 'pause', 'my-data', 'export', 'forget', 'viewers', 'erase', 'erasures']) {
      expect(page.stdout, command).toMatch(new RegExp(`^ {7}${command}\\b`, 'm'));
    }

    // The unit sandboxes the agent to its data folder. At first login that folder does not exist
    // yet, and systemd fails the start (226/NAMESPACE) on a missing ReadWritePaths folder: each
    // one must be optional ("-") or made by a privileged ("+") ExecStartPre before the sandbox.
    const unitText = readFileSync('/usr/lib/systemd/user/icarus-agent.service', 'utf8');
    const unitValues = (key: string) => [...unitText.matchAll(new RegExp(`^${key}=(.+)$`, 'gm'))].flatMap((m) => (m[1] ?? '').trim().split(/\s+/));
    const made = [...unitText.matchAll(/^ExecStartPre=\+\S*\/mkdir -p (?:-m 0700 )?(\S+)$/gm)].map((m) => m[1]);
    const writable = unitValues('ReadWritePaths');
    expect(writable).toEqual(['%h/.local/share/icarus-nova']);
    for (const path of writable) expect(path.startsWith('-') || made.includes(path), `${path} is neither optional nor created before the sandbox`).toBe(true);
    if (existsSync('/usr/bin/systemd-analyze')) {
      // systemd's own check of the unit as a user manager loads it (no systemd needs to run).
      const runtime = mkdtempSync(join(tmpdir(), 'icarus-xdg-runtime-'));
      const verified = await sh('systemd-analyze', ['--user', 'verify', '--man=no', '/usr/lib/systemd/user/icarus-agent.service'], {
        ...process.env,
        HOME: home,
        XDG_RUNTIME_DIR: runtime,
      });
      rmSync(runtime, { recursive: true, force: true });
      expect(verified.code, verified.stderr).toBe(0);
      expect(verified.stderr + verified.stdout).toBe('');
    }

    // The person's environment: their own HOME, a display, and a server setting managed config overrides.
    const env = {
      ...x.env,
      HOME: home,
      XDG_DATA_HOME: join(home, '.local/share'),
      XDG_CONFIG_HOME: join(home, '.config'),
      ICARUS_SERVER: 'http://127.0.0.1:9/not-this-one',
      PATH: process.env.PATH ?? '/usr/bin:/bin',
    };
    // First login: run the unit's ExecStartPre as systemd would, %h being the person's home.
    const dataDir = join(home, '.local/share/icarus-nova');
    expect(existsSync(dataDir)).toBe(false);
    for (const pre of unitText.matchAll(/^ExecStartPre=\+(.+)$/gm)) {
      const [preCmd = '', ...preArgs] = (pre[1] ?? '').replaceAll('%h', home).trim().split(/\s+/);
      const r = await sh(preCmd, preArgs, env);
      expect(r.code, r.stderr).toBe(0);
    }
    expect(statSync(dataDir).mode & 0o777).toBe(0o700);
    const enrolled = await sh('/usr/bin/icarus-agent', ['enroll'], env);
    expect(enrolled.code, enrolled.stderr).toBe(0);
    expect(enrolled.stdout).toContain(`(${cloud.url})`); // from /etc/icarus-nova/agent.json, not ICARUS_SERVER
    // The fleet token in the managed file binds the computer to nobody: the person pairs it.
    expect(enrolled.stdout).toContain('bound to: nobody yet');
    const { directory, bindings } = cloud.cloud.services;
    const person = await directory.createUser({ orgId: cloud.bootstrap.orgId, email: 'deb@e2e.test', name: 'Deb Person', role: 'employee' });
    const { code } = await bindings.createPairingCode({ orgId: cloud.bootstrap.orgId, userId: person.id });
    const paired = await sh('/usr/bin/icarus-agent', ['pair', code], env);
    expect(paired.code, paired.stderr).toBe(0);
    expect(paired.stdout).toContain('bound to: Deb Person <deb@e2e.test>');
    const consent = await sh('/usr/bin/icarus-agent', ['consent'], env, 'y\ny\n');
    expect(consent.code, consent.stderr).toBe(0);
    expect(consent.stdout).toMatch(/signature: verified/);

    // No systemd in this container: run exactly what the user unit would.
    const unit = readFileSync('/usr/lib/systemd/user/icarus-agent.service', 'utf8');
    const execStart = /^ExecStart=(.+)$/m.exec(unit)?.[1]?.trim().split(/\s+/) ?? [];
    expect(execStart).toEqual(['/usr/bin/icarus-agent', 'run']);
    const [editor, mail] = await Promise.all([x.openWindow('notes', 'Editor'), x.openWindow('Inbox', 'Mail')]);
    const [cmd = '', ...args] = execStart;
    const agent = spawn(cmd, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let log = '';
    agent.stdout.on('data', (d: Buffer) => (log += d.toString()));
    agent.stderr.on('data', (d: Buffer) => (log += d.toString()));
    const waitFor = async (re: RegExp, ms = 30_000) => {
      const until = Date.now() + ms;
      while (!re.test(log)) {
        if (Date.now() > until) throw new Error(`timed out waiting for ${re}; agent said:\n${log}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    };
    await waitFor(/capturing app_usage, idle/);
    for (const w of [editor, mail, editor]) {
      await x.activate(w);
      await new Promise((r) => setTimeout(r, 900));
    }
    await waitFor(/sync: sent \d+ spans/);
    const exited = new Promise<number | null>((r) => agent.once('exit', (code) => r(code)));
    agent.kill('SIGTERM');
    expect(await exited).toBe(0);

    const store = AgentStore.open(dataDir);
    const local = store.spans.everything();
    const device = store.state.device();
    store.close();
    expect(local.length).toBeGreaterThanOrEqual(2);
    const rows = await cloud.database.rows<{ id: string }>(sql`select id::text as id from spans where device_id = ${device?.deviceId ?? ''}`);
    const synced = local.filter((s) => s.syncedMs !== null).map((s) => s.id);
    expect(synced.length).toBeGreaterThanOrEqual(2);
    expect(rows.map((r) => r.id)).toEqual(expect.arrayContaining(synced));

    const removed = await sh('dpkg', ['-r', 'icarus-nova-agent']);
    expect(removed.code, removed.stderr).toBe(0);
    // Only the autostart entry stays, as a conffile does until purge, and it starts nothing:
    // its TryExec names the agent, which is gone, so the session skips it.
    expect(installedFiles.filter((f) => existsSync(f))).toEqual([AUTOSTART]);
    const tryExec = /^TryExec=(.+)$/m.exec(readFileSync(AUTOSTART, 'utf8'))?.[1];
    expect(tryExec).toBe('/usr/bin/icarus-agent');
    expect(existsSync(tryExec ?? '/')).toBe(false);
    expect(existsSync('/usr/lib/icarus-nova')).toBe(false);
    // The user unit is masked, so no leftover enable link can start it at anyone's login.
    expect(readlinkSync('/etc/systemd/user/icarus-agent.service')).toBe('/dev/null');
    // Kept on purpose: the person's own data (it may hold unsent spans) and IT's managed config.
    expect(existsSync(join(dataDir, 'agent.db'))).toBe(true);
    expect(existsSync(MANAGED)).toBe(true);

    // Purge: the conffile, the unit's enable and mask state and IT's managed config go too.
    const purged = await sh('dpkg', ['--purge', 'icarus-nova-agent']);
    expect(purged.code, purged.stderr).toBe(0);
    expect(existsSync(AUTOSTART)).toBe(false);
    expect(unitLinks().map((l) => `${l} -> ${lstatSync(l).isSymbolicLink() ? readlinkSync(l) : 'file'}`)).toEqual([]);
    expect(existsSync(MANAGED)).toBe(false);
    expect(existsSync(join(dataDir, 'agent.db'))).toBe(true);
  });
});

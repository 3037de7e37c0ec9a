import { execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { ConfigLayer, resolveConfig } from '../../core/config';
import { MACOS_DOMAIN, MANAGED_KEYS, parseManagedPlist, parseRegQuery } from './managed';
import { parsePlist, type PlistValue } from './plist';
import { findAll, parseXml } from './xml';

const installers = new URL('../../../../installers/', import.meta.url).pathname;
const read = (p: string) => readFileSync(join(installers, p), 'utf8');
const require = createRequire(import.meta.url);
const POLICY_NAMES = [...Object.keys(MANAGED_KEYS), 'UpdateFeedUrl'];

describe('electron-builder configuration', () => {
  it("passes electron-builder's own schema check, and a wrong key would not", async () => {
    // electron-builder's validator (ajv over its scheme.json), exactly what `electron-builder` runs first.
    const { validateConfiguration } = require('app-builder-lib/out/util/config/config.js') as {
      validateConfiguration: (config: unknown, logger: unknown) => Promise<void>;
    };
    const { DebugLogger } = require('builder-util') as { DebugLogger: new (enabled: boolean) => unknown };
    const config: Record<string, unknown> = JSON.parse(read('electron-builder.json'));
    await expect(validateConfiguration(config, new DebugLogger(false))).resolves.toBeUndefined();
    await expect(validateConfiguration({ ...config, nsis: { perMachine: 'yes' } }, new DebugLogger(false))).rejects.toThrow(/nsis/);
  });

  it('targets every installer per OS, per-machine, hardened, with no secret committed', () => {
    const text = read('electron-builder.json');
    const c = JSON.parse(text);
    expect(c.win.target.map((t: { target: string }) => t.target)).toEqual(['nsis', 'msi']);
    expect(c.nsis.perMachine && c.msi.perMachine).toBe(true);
    expect(c.mac.target.map((t: { target: string }) => t.target)).toEqual(['pkg', 'dmg']);
    expect(c.mac.hardenedRuntime).toBe(true);
    expect(c.linux.target).toEqual(['deb', 'rpm', 'AppImage']);
    // Signing material comes only from CSC_LINK / WIN_CSC_LINK / APPLE_* in CI, never from the file.
    expect(text).not.toMatch(/certificateFile|certificatePassword|cscLink|cscKeyPassword|PRIVATE KEY/i);
  });

  it('the MSI hook adds the silent-install properties and writes them as policy, still valid XML', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'wxs-'));
    const file = join(dir, 'project.wxs');
    writeFileSync(
      file,
      '<?xml version="1.0"?><Wix xmlns="http://schemas.microsoft.com/wix/2006/wi"><Product Id="*" Name="Icarus Nova"><Feature Id="ProductFeature"/></Product></Wix>',
    );
    const hook = require(join(installers, 'hooks/msi-project-created.cjs')) as (f: string) => Promise<void>;
    await hook(file);
    const wxs = parseXml(readFileSync(file, 'utf8'));
    expect(findAll(wxs, 'Property').map((p) => p.attrs.Id)).toEqual(['SERVERURL', 'ENROLLMENTTOKEN', 'UPDATEFEEDURL']);
    const values = findAll(wxs, 'RegistryValue');
    expect(values.map((v) => v.attrs.Name)).toEqual(['ServerUrl', 'EnrollmentToken', 'UpdateFeedUrl']);
    expect(new Set(values.map((v) => v.attrs.Key))).toEqual(new Set(['SOFTWARE\\Policies\\IcarusNova\\Agent']));
  });
});

describe('managed configuration templates', () => {
  it('Windows ADMX/ADML: well-formed, every policy under the agent key, every string and presentation defined', () => {
    const admx = parseXml(read('windows/IcarusNova.admx'));
    const adml = parseXml(read('windows/en-US/IcarusNova.adml'));
    const policies = findAll(admx, 'policy');
    expect(policies.map((p) => p.attrs.name).sort()).toEqual([...POLICY_NAMES].sort());
    for (const p of policies) {
      expect(p.attrs.key).toBe('SOFTWARE\\Policies\\IcarusNova\\Agent');
      expect(p.attrs.class).toBe('Machine');
    }
    const strings = new Set(findAll(adml, 'string').map((s) => s.attrs.id));
    const presentations = new Set(findAll(adml, 'presentation').map((s) => s.attrs.id));
    const refs = [...read('windows/IcarusNova.admx').matchAll(/\$\((string|presentation)\.(\w+)\)/g)];
    expect(refs.length).toBeGreaterThan(10);
    for (const [, kind, id] of refs) expect((kind === 'string' ? strings : presentations).has(id ?? '')).toBe(true);
    const valueNames = findAll(admx, 'text')
      .concat(findAll(admx, 'decimal'))
      .map((e) => e.attrs.valueName);
    expect(valueNames.sort()).toEqual([...POLICY_NAMES].sort());
  });

  it('Windows registry policy values (reg query output) become the agent config, managed winning', () => {
    const sample = [
      '',
      'HKEY_LOCAL_MACHINE\\SOFTWARE\\Policies\\IcarusNova\\Agent',
      '    ServerUrl    REG_SZ    https://icarus.example.com',
      '    EnrollmentToken    REG_SZ    enroll-0123456789abcdef',
      '    SyncIntervalMs    REG_DWORD    0xea60',
      '    UpdateFeedUrl    REG_SZ    https://updates.example/agent',
      '',
    ].join('\r\n');
    const managed = parseRegQuery(sample);
    expect(managed.updateFeedUrl).toBe('https://updates.example/agent');
    // Outranks flags and the environment, and counts as managed (the person cannot change it).
    const config = resolveConfig(
      { server: 'https://flag.example', syncIntervalMs: 1000 },
      { ICARUS_SERVER: 'https://user-choice.example', ICARUS_MANAGED_CONFIG: '/nonexistent', HOME: tmpdir() },
      managed,
    );
    expect(config.server).toBe('https://icarus.example.com');
    expect(config.syncIntervalMs).toBe(60_000);
    expect(config.managedKeys.sort()).toEqual(['enrollmentToken', 'server', 'syncIntervalMs']);
    const bad = parseRegQuery('    SyncIntervalMs    REG_DWORD    0x1\r\n');
    expect(() => resolveConfig({}, { ICARUS_MANAGED_CONFIG: '/nonexistent', HOME: tmpdir() }, bad)).toThrow(
      /registry HKLM\\SOFTWARE\\Policies\\IcarusNova\\Agent: syncIntervalMs: /,
    );
    expect(config.enrollmentToken).toBe('enroll-0123456789abcdef');
  });

  it("macOS profile: a Custom Settings payload for the agent's domain, holding every key the agent reads", () => {
    const text = read('macos/com.icarusnova.agent.mobileconfig');
    const profile = parsePlist(text);
    // A second, independent parser: Python's plistlib reads it to the same value. (Apple's `plutil -lint`
    // is macOS-only and absent here; plistlib is the independent check this machine has.)
    const python = execFileSync('python3', ['-c', 'import json, plistlib, sys; print(json.dumps(plistlib.loads(sys.stdin.buffer.read())))'], {
      input: text,
      encoding: 'utf8',
    });
    expect(JSON.parse(python)).toEqual(profile);
    const dict = (v: PlistValue | undefined, what: string): Record<string, PlistValue> => {
      if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Error(`${what} is not a <dict>`);
      return v;
    };
    const top = dict(profile, 'the profile');
    expect(top.PayloadType).toBe('Configuration');
    expect(top.PayloadScope).toBe('System');
    const content = top.PayloadContent;
    if (!Array.isArray(content) || content.length !== 1) throw new Error('expected one payload');
    const payload = dict(content[0], 'the payload');
    // Apple's documented payload for an app's managed preferences ("Custom Settings").
    expect(payload.PayloadType).toBe('com.apple.ManagedClient.preferences');
    const domains = dict(payload.PayloadContent, 'PayloadContent');
    expect(Object.keys(domains)).toEqual([MACOS_DOMAIN]);
    const forced = dict(domains[MACOS_DOMAIN], MACOS_DOMAIN).Forced;
    if (!Array.isArray(forced) || forced.length !== 1) throw new Error('expected one Forced entry');
    const settings = dict(dict(forced[0], 'Forced[0]').mcx_preference_settings, 'mcx_preference_settings');
    // Exactly the names the agent reads (the ADMX has the same), each mapped to a config key.
    expect(Object.keys(settings).sort()).toEqual([...POLICY_NAMES].sort());
    for (const key of Object.values(MANAGED_KEYS)) expect(Object.keys(ConfigLayer.shape)).toContain(key);
    const uuids = [top.PayloadUUID, payload.PayloadUUID];
    for (const u of uuids) expect(u).toMatch(/^[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}$/);
    expect(new Set(uuids).size).toBe(2);
    expect(payload.PayloadIdentifier).not.toBe(top.PayloadIdentifier);

    // What macOS writes to /Library/Managed Preferences/com.icarusnova.agent.plist: those
    // settings as a flat dict (here written by plistlib, with the placeholders filled in).
    const asManagedPrefs = (values: Record<string, PlistValue>) =>
      execFileSync('python3', ['-c', 'import json, plistlib, sys; sys.stdout.buffer.write(plistlib.dumps(json.load(sys.stdin)))'], {
        input: JSON.stringify(values),
        encoding: 'utf8',
      });
    const managed = parseManagedPlist(asManagedPrefs({ ...settings, EnrollmentToken: 'enroll-0123456789abcdef', DeviceName: 'mac-042' }));
    expect(managed.updateFeedUrl).toBe(settings.UpdateFeedUrl);
    const config = resolveConfig(
      { server: 'https://flag.example', deviceName: 'chosen-by-person' },
      { ICARUS_MANAGED_CONFIG: '/nonexistent', HOME: tmpdir() },
      managed,
    );
    expect(config.server).toBe('https://icarus.example.com');
    expect(config.deviceName).toBe('mac-042');
    expect(config.syncIntervalMs).toBe(60_000);
    expect(config.managedKeys.sort()).toEqual(Object.values(MANAGED_KEYS).sort());
    // Left empty as shipped, DeviceName is not managed: the agent names the device after the computer.
    const asShipped = resolveConfig({}, { ICARUS_MANAGED_CONFIG: '/nonexistent', HOME: tmpdir() }, parseManagedPlist(asManagedPrefs(settings)));
    expect(asShipped.managedKeys).not.toContain('deviceName');
    expect(() => parsePlist('<plist><dict><key>a</key></dict>')).toThrow();
    expect(() => parseXml('<a><b></a>')).toThrow(/does not match/);
    expect(() => parseXml('<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><x>&e;</x>')).toThrow(/DTD/);
  });

  it('Linux /etc/icarus-nova/agent.json: matches its JSON schema and the core config loader reads it', () => {
    const ajv = new Ajv2020({ strict: true, validateFormats: false });
    const validate = ajv.compile(JSON.parse(read('linux/agent.schema.json')));
    const example = JSON.parse(read('linux/agent.json'));
    expect(validate(example)).toBe(true);
    expect(validate({ ...example, serverUrl: 'x' })).toBe(false);
    // The schema and the loader accept the same keys: nothing the agent reads is refused by the
    // schema, nothing the schema allows is refused by the agent.
    const schema = JSON.parse(read('linux/agent.schema.json')) as { properties: Record<string, unknown> };
    expect(Object.keys(schema.properties).sort()).toEqual(Object.keys(ConfigLayer.shape).sort());
    expect(validate({ ...example, heartbeatIntervalMs: 30_000 })).toBe(true);
    expect(validate({ ...example, heartbeatIntervalMs: 10 })).toBe(false);
    expect(ConfigLayer.safeParse({ heartbeatIntervalMs: 30_000 }).success).toBe(true);
    const config = resolveConfig({}, { ICARUS_MANAGED_CONFIG: join(installers, 'linux/agent.json'), ICARUS_SERVER: 'https://other.example', HOME: tmpdir() });
    expect(config.server).toBe('https://icarus.example.com');
    expect(config.managedKeys).toContain('server');
  });
});

describe('the tray app build', () => {
  it('bundles main, a sandbox-loadable preload (requires only electron), the screens and tray icons', async () => {
    const { buildElectronApp } = await import('../build');
    const out = mkdtempSync(join(tmpdir(), 'electron-build-'));
    await buildElectronApp(out);
    const preload = readFileSync(join(out, 'preload.cjs'), 'utf8');
    expect([...preload.matchAll(/require\("([^"]+)"\)/g)].map((m) => m[1])).toEqual(['electron']);
    expect(readFileSync(join(out, 'electron/index.cjs'), 'utf8')).toContain('requestSingleInstanceLock');
    for (const f of ['ui/consent.html', 'ui/app.js', 'icons/tray-recording.png', 'icons/tray-paused.png', 'icons/512x512.png']) {
      expect(readFileSync(join(out, f)).length).toBeGreaterThan(50);
    }
    expect(readFileSync(join(out, 'icons/tray-waiting.png')).subarray(1, 4).toString()).toBe('PNG');
  });
});

describe('CI workflow', () => {
  it('builds each OS’s installers on that OS, with signing material from secrets only', () => {
    // js-yaml comes with electron-builder (its config loader); it ships no type declarations.
    const { load } = require('js-yaml') as { load: (text: string) => unknown };
    const text = readFileSync(new URL('../../../../.github/workflows/installers.yml', import.meta.url), 'utf8');
    const wf = load(text) as { jobs: Record<string, { 'runs-on': string; steps: { run?: string }[] }> };
    const runs = (job: string) => wf.jobs[job]?.steps.map((s) => s.run ?? '').join('\n') ?? '';
    expect(wf.jobs.windows?.['runs-on']).toMatch(/^windows-/);
    expect(runs('windows')).toContain('--win nsis msi');
    expect(wf.jobs.macos?.['runs-on']).toMatch(/^macos-/);
    expect(runs('macos')).toContain('--mac pkg dmg');
    expect(wf.jobs.linux?.['runs-on']).toMatch(/^ubuntu-/);
    expect(runs('linux')).toContain('--linux deb rpm AppImage');
    expect(runs('linux-headless-deb')).toContain('build-deb.sh');
    expect(text).not.toMatch(/-----BEGIN|CSC_LINK: [^$]/);
  });
});

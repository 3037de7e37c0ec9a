import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { AGENT_RELEASE, installCommands } from './install-commands';

const root = new URL('../../../../', import.meta.url);
const read = (path: string) => readFileSync(new URL(path, root), 'utf8');

describe('silent-install commands', () => {
  const [windows, macos, linux] = installCommands('https://icarus.example.com', 'icn_enr_abc-DEF_123');

  it('name the release the installers are built from', () => {
    expect(AGENT_RELEASE).toBe((JSON.parse(read('desktop-agent/package.json')) as { version: string }).version);
  });

  it('Windows: the MSI public properties the msiProjectCreated hook declares', () => {
    const hook = createRequire(import.meta.url)(new URL('installers/hooks/msi-project-created.cjs', root).pathname) as {
      policyFragment: () => { props: string };
    };
    const declared = [...hook.policyFragment().props.matchAll(/Property Id="([A-Z]+)"/g)].map((m) => m[1]);
    const used = [...(windows?.text.matchAll(/ ([A-Z]+)=/g) ?? [])].map((m) => m[1]);
    expect(used).toEqual(['SERVERURL', 'ENROLLMENTTOKEN']);
    for (const name of used) expect(declared).toContain(name);
    expect(windows?.text).toBe(`msiexec /i IcarusNova-${AGENT_RELEASE}-x64.msi /qn SERVERURL=https://icarus.example.com ENROLLMENTTOKEN=icn_enr_abc-DEF_123`);
  });

  it('macOS: the keys of the MDM profile the agent reads', () => {
    const profile = read('installers/macos/com.icarusnova.agent.mobileconfig');
    for (const key of [...(macos?.text.matchAll(/<key>(\w+)<\/key>/g) ?? [])].map((m) => m[1])) expect(profile).toContain(`<key>${key}</key>`);
    expect(macos?.text).toContain('<string>icn_enr_abc-DEF_123</string>');
  });

  it('Linux: /etc/icarus-nova/agent.json with the properties its schema allows', () => {
    const schema = JSON.parse(read('installers/linux/agent.schema.json')) as { properties: Record<string, unknown> };
    const json = /echo '(.+)' \| sudo tee \/etc\/icarus-nova\/agent.json/.exec(linux?.text ?? '')?.[1] ?? '{}';
    const written = JSON.parse(json) as Record<string, string>;
    expect(written).toEqual({ server: 'https://icarus.example.com', enrollmentToken: 'icn_enr_abc-DEF_123' });
    for (const key of Object.keys(written)) expect(schema.properties).toHaveProperty(key);
  });
});

// Silent-install commands for a new enrollment token, one per OS, in the names the installers
// read: the MSI's public properties (installers/hooks/msi-project-created.cjs), the macOS profile's
// managed keys (installers/macos/com.icarusnova.agent.mobileconfig) and the Linux managed file
// /etc/icarus-nova/agent.json (installers/linux/agent.schema.json). install-commands.test.ts holds
// each name to the installer file it comes from.

/** The agent release the installers are built from (desktop-agent/package.json; the test keeps them equal). */
export const AGENT_RELEASE = '0.1.0';

export const INSTALLER_FILES = {
  msi: `IcarusNova-${AGENT_RELEASE}-x64.msi`,
  pkg: `IcarusNova-${AGENT_RELEASE}.pkg`,
  deb: `icarus-nova_${AGENT_RELEASE}_amd64.deb`,
} as const;

export interface InstallCommand {
  os: 'Windows' | 'macOS' | 'Linux';
  /** What the command does, in one line, above it. */
  how: string;
  text: string;
}

/** A value inside single quotes for a POSIX shell. */
const shellQuoted = (value: string) => `'${value.replace(/'/g, `'\\''`)}'`;
/** Characters XML needs escaped inside a string element. */
const xmlText = (value: string) => value.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

export function installCommands(serverUrl: string, token: string): InstallCommand[] {
  const managedJson = JSON.stringify({ server: serverUrl, enrollmentToken: token });
  return [
    {
      os: 'Windows',
      how: 'Per machine, silently (run as administrator or push with your software distribution):',
      text: `msiexec /i ${INSTALLER_FILES.msi} /qn SERVERURL=${serverUrl} ENROLLMENTTOKEN=${token}`,
    },
    {
      os: 'macOS',
      how: 'Put these keys into the MDM profile com.icarusnova.agent.mobileconfig (under mcx_preference_settings), push it, then install the package:',
      text: [
        '<key>ServerUrl</key>',
        `<string>${xmlText(serverUrl)}</string>`,
        '<key>EnrollmentToken</key>',
        `<string>${xmlText(token)}</string>`,
        '',
        `sudo installer -pkg ${INSTALLER_FILES.pkg} -target /`,
      ].join('\n'),
    },
    {
      os: 'Linux',
      how: 'Write the managed settings, then install the package:',
      text: [
        'sudo install -d /etc/icarus-nova',
        `echo ${shellQuoted(managedJson)} | sudo tee /etc/icarus-nova/agent.json >/dev/null`,
        `sudo apt install ./${INSTALLER_FILES.deb}`,
      ].join('\n'),
    },
  ];
}

// msiProjectCreated hook: adds the silent-install properties IT passes to msiexec
// (SERVERURL, ENROLLMENTTOKEN, UPDATEFEEDURL) and writes them as machine policy under
// HKLM\SOFTWARE\Policies\IcarusNova\Agent, the same values the ADMX template manages. Only values
// given on the command line are written (each component has a condition), so a GPO wins later.
const fs = require('node:fs');

const PROPERTIES = [
  ['SERVERURL', 'ServerUrl'],
  ['ENROLLMENTTOKEN', 'EnrollmentToken'],
  ['UPDATEFEEDURL', 'UpdateFeedUrl'],
];

function policyFragment() {
  const props = PROPERTIES.map(([prop]) => `    <Property Id="${prop}" Secure="yes" Hidden="${prop === 'ENROLLMENTTOKEN' ? 'yes' : 'no'}"/>`).join('\n');
  const components = PROPERTIES.map(
    ([prop, name]) => `      <Component Id="Policy${name}" Guid="*" Condition="${prop}">
        <RegistryValue Root="HKLM" Key="SOFTWARE\\Policies\\IcarusNova\\Agent" Name="${name}" Type="string" Value="[${prop}]" KeyPath="yes"/>
      </Component>`,
  ).join('\n');
  return { props, components };
}

module.exports = async function msiProjectCreated(projectFile) {
  let wxs = fs.readFileSync(projectFile, 'utf8');
  const { props, components } = policyFragment();
  if (!wxs.includes('</Product>') && !wxs.includes('</Package>')) throw new Error(`unexpected WiX project layout in ${projectFile}`);
  const close = wxs.includes('</Product>') ? '</Product>' : '</Package>';
  const feature = `  <ComponentGroup Id="IcarusNovaPolicy" Directory="TARGETDIR">\n${components}\n  </ComponentGroup>\n  <FeatureRef Id="ProductFeature"><ComponentGroupRef Id="IcarusNovaPolicy"/></FeatureRef>\n`;
  wxs = wxs.replace(close, `${props}\n${feature}${close}`);
  fs.writeFileSync(projectFile, wxs);
};
module.exports.policyFragment = policyFragment;

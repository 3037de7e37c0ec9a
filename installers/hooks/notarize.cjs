// afterSign hook: notarizes the signed macOS app with Apple's notary service. Credentials come only
// from the CI environment (APPLE_ID, APPLE_APP_SPECIFIC_PASSWORD, APPLE_TEAM_ID, or an API key
// via APPLE_API_KEY / APPLE_API_KEY_ID / APPLE_API_ISSUER); without them a local build is left
// un-notarized, and CI fails the job instead (REQUIRE_NOTARIZATION=true).
const path = require('node:path');

module.exports = async function notarizeHook(context) {
  if (context.electronPlatformName !== 'darwin') return;
  const env = process.env;
  const appPath = path.join(context.appOutDir, `${context.packager.appInfo.productFilename}.app`);
  let credentials;
  if (env.APPLE_API_KEY && env.APPLE_API_KEY_ID && env.APPLE_API_ISSUER) {
    credentials = { appleApiKey: env.APPLE_API_KEY, appleApiKeyId: env.APPLE_API_KEY_ID, appleApiIssuer: env.APPLE_API_ISSUER };
  } else if (env.APPLE_ID && env.APPLE_APP_SPECIFIC_PASSWORD && env.APPLE_TEAM_ID) {
    credentials = { appleId: env.APPLE_ID, appleIdPassword: env.APPLE_APP_SPECIFIC_PASSWORD, teamId: env.APPLE_TEAM_ID };
  }
  if (!credentials) {
    if (env.REQUIRE_NOTARIZATION === 'true') throw new Error('notarization required but no Apple credentials in the environment');
    console.log('notarize: no Apple credentials in the environment; skipping (local build)');
    return;
  }
  const { notarize } = require('@electron/notarize');
  await notarize({ appPath, ...credentials });
  console.log(`notarize: ${appPath} notarized`);
};

// The audit log's action codes in plain words: the viewer's summary line per event and the
// employee's "who viewed my data" both read them from here, so one code has one meaning.

/** What one action code means: what was done (after the actor's name) and whether it read someone's data. */
export interface ActionWords {
  /** "viewed the team summary report": follows the actor's name. */
  did: string;
  /** For the people it names: what was seen of them ("your totals in a team summary"). */
  saw?: string;
}

const WORDS: Record<string, ActionWords> = {
  'report.team_summary.viewed': { did: 'viewed a team summary report', saw: 'your time per category, in a team summary' },
  'report.team_trend.viewed': { did: 'viewed a team trend report', saw: 'your time per day, in a team trend' },
  'report.org_trend.viewed': { did: 'viewed the organisation trend report', saw: 'your time per day, in the organisation trend' },
  'report.team_comparison.viewed': { did: 'viewed the team comparison report', saw: 'your time per category, in a comparison of teams' },
  'report.person_detail.viewed': { did: "viewed one person's detail report", saw: 'your own totals, one by one' },
  'report.csv.exported': { did: 'exported a report as CSV', saw: 'your figures, in a report export' },
  'report.consent_coverage.viewed': { did: 'viewed the consent coverage report', saw: 'whether you consented, in the consent coverage report' },
  'report.device_health.viewed': { did: 'viewed the device health report', saw: 'the health of your computers' },
  'compliance.report_viewed': { did: 'viewed the compliance report', saw: 'that your data was read or erased, in the compliance report' },
  'admin.devices_viewed': { did: 'viewed the device list', saw: 'your computer and its last sync, in the device list' },
  'admin.device_viewed': { did: "viewed a device's page", saw: 'your computer and its last sync' },
  'consent.history_viewed': { did: "viewed a person's consent history", saw: 'your consent decisions' },
  'audit.viewed': { did: 'viewed the audit log', saw: 'the audit entries about you' },
  'audit.event_viewed': { did: 'opened one audit entry' },
  'audit.exported': { did: 'exported the audit log as CSV', saw: 'the audit entries about you, in an export' },
  'audit.verify': { did: "verified the audit log's chain" },
  'audit.chain_verified': { did: "verified the audit log's whole chain (the nightly check)" },
  'directory.import': { did: 'imported the directory', saw: 'your name, email, team and manager, in a directory import' },
  'directory.import.dry_run': { did: 'tried a directory import (dry run)', saw: 'your directory entry, in a trial import' },
  'device.enrolled': { did: 'enrolled' },
  'device.token_issued': { did: 'signed in (device access token)' },
  'device.revoked': { did: 'revoked a device', saw: 'your computer, revoked' },
  'device.bound': { did: 'bound a device to a person', saw: 'a computer, bound to you' },
  'device.unbound': { did: 'unbound a device', saw: 'a computer, unbound from you' },
  'device.pairing_refused': { did: 'was refused a pairing code' },
  'pairing_code.created': { did: 'made a pairing code' },
  'enrollment_token.created': { did: 'created an enrollment token' },
  'enrollment_token.revoked': { did: 'revoked an enrollment token' },
  'consent.granted': { did: 'recorded a consent (granted)' },
  'consent.declined': { did: 'recorded a consent (declined)' },
  'consent.withdrawn': { did: 'recorded a withdrawal of consent' },
  'consent.import_granted': { did: 'recorded a consent to import past history' },
  'consent.import_withdrawn': { did: 'recorded a withdrawal of an import consent' },
  'import.erased': { did: 'erased history brought in by a withdrawn import', saw: 'your imported history, erased' },
  'policy.draft_created': { did: 'started a policy draft' },
  'policy.draft_updated': { did: 'edited a policy draft' },
  'policy.submitted': { did: 'submitted a policy for review' },
  'policy.reopened': { did: 'reopened a policy draft' },
  'policy.approved': { did: 'approved a policy' },
  'policy.published': { did: 'published a policy' },
  'categories.updated': { did: 'changed the category rules' },
  'directory.working_week_set': { did: 'changed the working week (after-hours figures count outside it)' },
  'ingest.rejected': { did: 'sent spans the server refused' },
  'rights.exported': { did: 'exported their own data' },
  'rights.erasure.requested': { did: 'asked for their data to be erased' },
  'rights.erasure.completed': { did: 'finished erasing a person’s data' },
  'auth.sign_in': { did: 'signed in' },
  'auth.sign_in_failed': { did: 'failed to sign in' },
  'api_token.created': { did: 'made an API token for reading reports' },
  'api_token.revoked': { did: 'revoked an API token' },
  'auth.sign_out': { did: 'signed out' },
  'auth.totp_verified': { did: 'passed the second factor' },
  'auth.totp_enrolled': { did: 'set up a second factor' },
  'webhook.created': { did: 'added a webhook' },
  'webhook.removed': { did: 'removed a webhook' },
  'webhook.disabled': { did: 'disabled a webhook that answered Gone or failed every retry' },
  'webhook.enabled': { did: 're-enabled a disabled webhook' },
};

/** The words for an action code; an unknown code (a newer module's) reads as the code itself. */
export function actionWords(action: string): ActionWords {
  return WORDS[action] ?? { did: `did ${action.replace(/[._]/g, ' ')}` };
}

/** The known action codes, for the viewer's action filter. */
export const KNOWN_ACTIONS: readonly string[] = Object.keys(WORDS).sort();

/** A few details worth a summary line, in words; everything else is under "details". */
export function detailWords(details: Record<string, unknown>): string[] {
  const words: string[] = [];
  const text = (v: unknown) => (typeof v === 'string' || typeof v === 'number' ? String(v) : undefined);
  const from = text(details['from']);
  const to = text(details['to']);
  if (from && to) words.push(from === to ? `for ${from}` : `for ${from} to ${to}`);
  const version = text(details['version']) ?? text(details['policyVersion']);
  if (version) words.push(`policy version ${version}`);
  const label = text(details['label']);
  if (label) words.push(`“${label}”`);
  const deviceName = text(details['deviceName']);
  if (deviceName) words.push(`device “${deviceName}”`);
  const rows = text(details['rows']) ?? text(details['shown']);
  if (rows) words.push(`${rows} entries`);
  const removed = text(details['spansRemoved']);
  if (removed) words.push(`${removed} spans removed`);
  const why = text(details['why']) ?? text(details['reason']);
  if (why) words.push(why);
  return words;
}

import type { SignedInUser } from '../../platform/env';
import type { AssetName } from '../../ui/assets';
import { Layout } from '../../ui/layout';

/** uPlot and the page script, served by this server (no CDN); report.js reads its inputs from `data-*`. */
const REPORT_STYLES: readonly AssetName[] = ['uplot.min.css', 'report.css'];
const REPORT_SCRIPTS: readonly AssetName[] = ['uplot.min.js', 'report.js'];

function DateRange(props: { from: string; to: string }) {
  return (
    <>
      <label>
        From
        <input type="date" name="from" id="from" value={props.from} required />
      </label>
      <label>
        To
        <input type="date" name="to" id="to" value={props.to} required />
      </label>
    </>
  );
}

/** The team report: a plain GET form (works without script), data drawn by report.js from the JSON API. */
export function TeamReportPage(props: { user: SignedInUser; teams: { id: string; name: string }[]; teamId: string | undefined; from: string; to: string }) {
  const { user, teams } = props;
  return (
    <Layout title="Team report" user={user} current="/reports/team" styles={REPORT_STYLES} scripts={REPORT_SCRIPTS}>
      {teams.length === 0 ? (
        <p class="notice">You do not manage any team yet.</p>
      ) : (
        <>
          <form class="filters" method="get" action="/reports/team" aria-label="Report filters">
            <label>
              Team
              <select name="teamId" id="team">
                {teams.map((t) => (
                  <option value={t.id} selected={t.id === props.teamId}>
                    {t.name}
                  </option>
                ))}
              </select>
            </label>
            <DateRange from={props.from} to={props.to} />
            <button type="submit">Show report</button>
            <a class="button noprint" id="export" href="#" download>
              Export CSV
            </a>
            <button type="button" class="noprint" id="print">
              Print
            </button>
          </form>
          <div id="report" data-team={props.teamId ?? teams[0]?.id ?? ''} data-from={props.from} data-to={props.to} aria-live="polite">
            <p class="muted">Loading report…</p>
          </div>
        </>
      )}
    </Layout>
  );
}

/** Org-wide trend and team comparison (admins). */
export function OrgReportPage(props: { user: SignedInUser; from: string; to: string }) {
  return (
    <Layout title="Organisation" user={props.user} current="/reports/org" styles={REPORT_STYLES} scripts={REPORT_SCRIPTS}>
      <form class="filters" method="get" action="/reports/org" aria-label="Report filters">
        <DateRange from={props.from} to={props.to} />
        <button type="submit">Show report</button>
        {/* Per person only: org-wide sums beside team sums would reveal small teams by subtraction. */}
        <a class="button noprint" href={`/api/reports/export.csv?level=person&from=${props.from}&to=${props.to}`} download>
          Export everyone per person (CSV)
        </a>
      </form>
      <div id="org-report" data-from={props.from} data-to={props.to} aria-live="polite">
        <p class="muted">Loading report…</p>
      </div>
    </Layout>
  );
}

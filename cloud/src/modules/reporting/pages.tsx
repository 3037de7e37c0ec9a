import type { SignedInUser } from '../../platform/env';
import type { AssetName } from '../../ui/assets';
import { Problems } from '../../ui/components';
import { Layout } from '../../ui/layout';
import { exportRunsInline } from './export-jobs';
import type { Preset } from './presets';

/** uPlot and the page script, served by this server (no CDN); report.js reads its inputs from `data-*`. */
const REPORT_STYLES: readonly AssetName[] = ['uplot.min.css', 'report.css'];
const REPORT_SCRIPTS: readonly AssetName[] = ['uplot.min.js', 'report.js'];

/** What every report page gets: who reads it, the range (as asked, even when it is refused) and the presets. */
interface RangeProps {
  user: SignedInUser;
  from: string;
  to: string;
  /** Set when the range cannot be reported on: the page says why instead of loading anything. */
  problem: string | undefined;
  presets: Preset[];
}

const query = (params: Record<string, string | undefined>) =>
  Object.entries(params)
    .flatMap(([k, v]) => (v === undefined ? [] : [`${encodeURIComponent(k)}=${encodeURIComponent(v)}`]))
    .join('&');

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

/** One link per preset range, keeping the page's other choices. */
function Presets(props: { path: string; presets: Preset[]; from: string; to: string; keep: Record<string, string | undefined> }) {
  return (
    <nav class="presets noprint" aria-label="Preset ranges">
      {props.presets.map((p) => (
        <a
          href={`${props.path}?${query({ ...props.keep, from: p.from, to: p.to })}`}
          aria-current={p.from === props.from && p.to === props.to ? 'true' : undefined}
        >
          {p.label}
        </a>
      ))}
    </nav>
  );
}

function Refused(props: { problem: string | undefined }) {
  return <Problems message={props.problem} fields={[]} />;
}

/** The team report: a plain GET form (works without script), data drawn by report.js from the JSON API. */
export function TeamReportPage(props: RangeProps & { teams: { id: string; name: string }[]; teamId: string | undefined; compare: boolean }) {
  const { user, teams } = props;
  const teamId = props.teamId ?? teams[0]?.id ?? '';
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
            <label class="check">
              <input type="checkbox" name="compare" id="compare" value="previous" checked={props.compare} />
              Compare with the previous period
            </label>
            <button type="submit">Show report</button>
            {teamId === undefined || exportRunsInline({ teamId, from: props.from, to: props.to, level: 'team' }) ? (
              <>
                <a class="button noprint" id="export" href={`/api/reports/export.csv?${query({ teamId, from: props.from, to: props.to })}`} download>
                  Export CSV
                </a>
                {/* The same file with a byte order mark first: Excel then reads names like "Zoë" as UTF-8. */}
                <a
                  class="button noprint"
                  id="export-excel"
                  href={`/api/reports/export.csv?${query({ teamId, from: props.from, to: props.to, bom: '1' })}`}
                  download
                >
                  CSV for Excel
                </a>
              </>
            ) : (
              // Longer than a month: prepared in the background like the organisation's export.
              <span id="team-export" class="noprint" data-team-id={teamId} data-level="team" data-from={props.from} data-to={props.to}>
                <button type="button" class="button">
                  Export CSV
                </button>{' '}
                <span role="status" aria-live="polite" class="muted"></span>
              </span>
            )}
            <button type="button" class="noprint" id="print">
              Print
            </button>
          </form>
          <Presets
            path="/reports/team"
            presets={props.presets}
            from={props.from}
            to={props.to}
            keep={{ teamId, compare: props.compare ? 'previous' : undefined }}
          />
          <Refused problem={props.problem} />
          {props.problem ? null : (
            <div id="report" data-team={teamId} data-from={props.from} data-to={props.to} data-compare={props.compare ? 'previous' : ''} aria-live="polite">
              <p class="muted">Loading report…</p>
            </div>
          )}
        </>
      )}
    </Layout>
  );
}

/** A team's apps of one category (or one app's days): the drill-down from the team report. */
export function TeamAppsPage(props: RangeProps & { teamId: string; teamName: string; category: string | undefined; app: string | undefined }) {
  const keep = { teamId: props.teamId, category: props.category, app: props.app };
  const title = props.app ? `${props.app} in ${props.teamName}` : props.category ? `${props.category} in ${props.teamName}` : `Apps in ${props.teamName}`;
  return (
    <Layout title={title} user={props.user} current="/reports/team" styles={REPORT_STYLES} scripts={REPORT_SCRIPTS}>
      <nav class="crumbs" aria-label="Breadcrumb">
        <a href={`/reports/team?${query({ teamId: props.teamId, from: props.from, to: props.to })}`}>{props.teamName}</a>
        {props.category ? (
          <>
            {' › '}
            <a href={`/reports/team/apps?${query({ teamId: props.teamId, category: props.category, from: props.from, to: props.to })}`}>{props.category}</a>
          </>
        ) : null}
        {props.app ? <> › {props.app}</> : null}
      </nav>
      <form class="filters" method="get" action="/reports/team/apps" aria-label="Report filters">
        <input type="hidden" name="teamId" value={props.teamId} />
        {props.category ? <input type="hidden" name="category" value={props.category} /> : null}
        {props.app ? <input type="hidden" name="app" value={props.app} /> : null}
        <DateRange from={props.from} to={props.to} />
        <button type="submit">Show report</button>
      </form>
      <Presets path="/reports/team/apps" presets={props.presets} from={props.from} to={props.to} keep={keep} />
      <Refused problem={props.problem} />
      {props.problem ? null : (
        <div
          id="apps-report"
          data-team={props.teamId}
          data-category={props.category ?? ''}
          data-app={props.app ?? ''}
          data-from={props.from}
          data-to={props.to}
          aria-live="polite"
        >
          <p class="muted">Loading report…</p>
        </div>
      )}
    </Layout>
  );
}

/** The people of a team one may open, where the policy and each person's consent allow. */
export function TeamPeoplePage(props: RangeProps & { teamId: string; teamName: string }) {
  return (
    <Layout title={`People in ${props.teamName}`} user={props.user} current="/reports/team" styles={REPORT_STYLES} scripts={REPORT_SCRIPTS}>
      <nav class="crumbs" aria-label="Breadcrumb">
        <a href={`/reports/team?${query({ teamId: props.teamId, from: props.from, to: props.to })}`}>{props.teamName}</a> › People
      </nav>
      <div id="people-report" data-team={props.teamId} data-from={props.from} data-to={props.to} aria-live="polite">
        <p class="muted">Loading…</p>
      </div>
    </Layout>
  );
}

/** One person's days and apps (one day when from = to), where the policy and their consent allow. */
export function PersonPage(props: RangeProps & { userId: string; teamId: string | undefined }) {
  const keep = { userId: props.userId, teamId: props.teamId };
  return (
    <Layout title="Person detail" user={props.user} current="/reports/team" styles={REPORT_STYLES} scripts={REPORT_SCRIPTS}>
      <form class="filters" method="get" action="/reports/person" aria-label="Report filters">
        <input type="hidden" name="userId" value={props.userId} />
        {props.teamId ? <input type="hidden" name="teamId" value={props.teamId} /> : null}
        <DateRange from={props.from} to={props.to} />
        <button type="submit">Show report</button>
      </form>
      <Presets path="/reports/person" presets={props.presets} from={props.from} to={props.to} keep={keep} />
      <Refused problem={props.problem} />
      {props.problem ? null : (
        <div id="person-report" data-user={props.userId} data-team={props.teamId ?? ''} data-from={props.from} data-to={props.to} aria-live="polite">
          <p class="muted">Loading report…</p>
        </div>
      )}
    </Layout>
  );
}

/** Org-wide trend and team comparison (admins). */
export function OrgReportPage(props: RangeProps) {
  return (
    <Layout title="Organisation" user={props.user} current="/reports/org" styles={REPORT_STYLES} scripts={REPORT_SCRIPTS}>
      <form class="filters" method="get" action="/reports/org" aria-label="Report filters">
        <DateRange from={props.from} to={props.to} />
        <button type="submit">Show report</button>
      </form>
      {/* Per person only: org-wide sums beside team sums would reveal small teams by subtraction. A background job: the file can be large. */}
      <div id="org-export" class="noprint" data-from={props.from} data-to={props.to}>
        <button type="button" class="button">
          Export everyone per person (CSV)
        </button>{' '}
        <span role="status" aria-live="polite" class="muted"></span>
      </div>
      <Presets path="/reports/org" presets={props.presets} from={props.from} to={props.to} keep={{}} />
      <Refused problem={props.problem} />
      {props.problem ? null : (
        <div id="org-report" data-from={props.from} data-to={props.to} aria-live="polite">
          <p class="muted">Loading report…</p>
        </div>
      )}
    </Layout>
  );
}

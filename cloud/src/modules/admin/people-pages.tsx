import type { FieldProblem } from '@icarus/shared';
import type { SignedInUser } from '../../platform/env';
import { ActionButton, DataTable, Info, Problems, when } from '../../ui/components';
import { Layout } from '../../ui/layout';

export interface Messages {
  error?: string | undefined;
  fields?: FieldProblem[] | undefined;
  info?: string | undefined;
}

interface PersonRow {
  id: string;
  name: string;
  email: string;
  role: string;
  teamName: string | null;
  worksCouncil: boolean;
  deactivatedAt: Date | null;
}

const TEAM_LABELS = { name: 'the team name', managers: 'the managers', teamId: 'the team', userId: 'the person' };

export function PeoplePage(
  props: {
    user: SignedInUser;
    list: { people: PersonRow[]; total: number; page: number; pages: number };
    teams: { id: string; name: string }[];
    query: { q: string; team: string; status: string };
  } & Messages,
) {
  const { list, query } = props;
  const link = (page: number) => `/admin/people?${new URLSearchParams({ ...query, page: String(page) }).toString()}`;
  return (
    <Layout title="People" user={props.user} current="/admin/people">
      <Problems message={props.error} fields={props.fields} labels={TEAM_LABELS} />
      <Info text={props.info} />
      <p>
        <a href="/admin/people/import">Import people from a CSV file</a> · <a href="/admin/teams">Teams</a>
      </p>
      <form method="get" action="/admin/people" role="search" aria-label="Find people">
        <label for="q">Name or email</label>
        <input id="q" name="q" value={query.q} />
        <label for="team">Team</label>
        <select id="team" name="team">
          <option value="">Any team</option>
          {props.teams.map((t) => (
            <option value={t.id} selected={t.id === query.team}>
              {t.name}
            </option>
          ))}
        </select>
        <label for="status">Status</label>
        <select id="status" name="status">
          {['active', 'deactivated', 'all'].map((s) => (
            <option value={s} selected={s === query.status}>
              {s}
            </option>
          ))}
        </select>
        <button type="submit">Find</button>
      </form>
      <p role="status">
        {list.total} {list.total === 1 ? 'person' : 'people'}; page {list.page} of {list.pages}.
      </p>
      <DataTable label="People" head={['Name', 'Email', 'Role', 'Team', 'Works council', 'Status']}>
        {list.people.map((p) => (
          <tr>
            <td>
              <a href={`/admin/people/${p.id}`}>{p.name}</a>
            </td>
            <td>{p.email}</td>
            <td>{p.role}</td>
            <td>{p.teamName ?? '—'}</td>
            <td>{p.worksCouncil ? 'member' : ''}</td>
            <td>{p.deactivatedAt ? `deactivated ${when(p.deactivatedAt.toISOString())}` : 'active'}</td>
          </tr>
        ))}
      </DataTable>
      <nav aria-label="Pages">
        {list.page > 1 ? <a href={link(list.page - 1)}>Previous page</a> : null} {list.page < list.pages ? <a href={link(list.page + 1)}>Next page</a> : null}
      </nav>
    </Layout>
  );
}

export function PersonPage(
  props: {
    user: SignedInUser;
    csrf: string;
    person: { id: string; name: string; email: string; role: string; teamId: string | null; worksCouncil: boolean; deactivatedAt: Date | null };
    teams: { id: string; name: string }[];
  } & Messages,
) {
  const p = props.person;
  const base = `/admin/people/${p.id}`;
  return (
    <Layout title={p.name} user={props.user} current="/admin/people">
      <Problems message={props.error} fields={props.fields} labels={TEAM_LABELS} />
      <Info text={props.info} />
      <p>
        {p.email}, {p.role}. {p.deactivatedAt ? `Deactivated ${when(p.deactivatedAt.toISOString())}.` : 'Active.'}{' '}
        <a href={`${base}/consent`}>Consent history</a>
      </p>
      <h2>Team</h2>
      <form method="post" action={`${base}/team`} aria-label="Move to a team">
        <input type="hidden" name="_csrf" value={props.csrf} />
        <label for="teamId">Team (from today; reports keep earlier days with the earlier team)</label>
        <select id="teamId" name="teamId">
          <option value="">No team</option>
          {props.teams.map((t) => (
            <option value={t.id} selected={t.id === p.teamId}>
              {t.name}
            </option>
          ))}
        </select>
        <button type="submit">Move</button>
      </form>
      <h2>Works council</h2>
      <p>{p.worksCouncil ? 'A works-council member: reads and approves policy versions, and sees nothing else of admin.' : 'Not a works-council member.'}</p>
      <ActionButton
        action={`${base}/works-council`}
        csrf={props.csrf}
        label={p.worksCouncil ? 'Remove from the works council' : 'Mark as works-council member'}
      />
      <h2>Access</h2>
      {p.deactivatedAt ? null : (
        <>
          <p>An invitation mails a one-time link to set a password (not for single sign-on or anyone who has a password).</p>
          <form method="post" action="/account/invitations" aria-label="Invite by email">
            <input type="hidden" name="_csrf" value={props.csrf} />
            <input type="hidden" name="userId" value={p.id} />
            <button type="submit">Invite by email</button>
          </form>
        </>
      )}
      {p.deactivatedAt ? (
        <ActionButton action={`${base}/reactivate`} csrf={props.csrf} label="Reactivate" />
      ) : (
        <>
          <p>Deactivating ends sign-in and notices and removes them as a team manager; their history stays.</p>
          <ActionButton action={`${base}/deactivate`} csrf={props.csrf} label="Deactivate" danger />
        </>
      )}
    </Layout>
  );
}

export function TeamsPage(
  props: {
    user: SignedInUser;
    csrf: string;
    teams: { id: string; name: string; members: number; managers: { name: string }[] }[];
    name?: string;
  } & Messages,
) {
  return (
    <Layout title="Teams" user={props.user} current="/admin/teams">
      <Problems message={props.error} fields={props.fields} labels={TEAM_LABELS} />
      <Info text={props.info} />
      <form method="post" action="/admin/teams" aria-label="New team">
        <input type="hidden" name="_csrf" value={props.csrf} />
        <label for="name">New team name</label>
        <input id="name" name="name" value={props.name ?? ''} />
        <button type="submit">Create team</button>
      </form>
      <DataTable label="Teams" head={['Team', 'Active members', 'Managers']} numeric={[false, true, false]}>
        {props.teams.map((t) => (
          <tr>
            <td>
              <a href={`/admin/teams/${t.id}`}>{t.name}</a>
            </td>
            <td class="num">{t.members}</td>
            <td>{t.managers.map((m) => m.name).join(', ') || '—'}</td>
          </tr>
        ))}
      </DataTable>
    </Layout>
  );
}

export function TeamPage(
  props: {
    user: SignedInUser;
    csrf: string;
    team: { id: string; name: string; members: number; managers: { id: string; name: string }[] };
    managerEmails: string;
  } & Messages,
) {
  const t = props.team;
  const base = `/admin/teams/${t.id}`;
  return (
    <Layout title={`Team ${t.name}`} user={props.user} current="/admin/teams">
      <Problems message={props.error} fields={props.fields} labels={TEAM_LABELS} />
      <Info text={props.info} />
      <p>
        {t.members} active members. <a href={`/admin/people?team=${t.id}`}>List them</a>
      </p>
      <form method="post" action={`${base}/name`} aria-label="Rename team">
        <input type="hidden" name="_csrf" value={props.csrf} />
        <label for="name">Team name</label>
        <input id="name" name="name" value={t.name} />
        <button type="submit">Rename</button>
      </form>
      <form method="post" action={`${base}/managers`} aria-label="Managers">
        <input type="hidden" name="_csrf" value={props.csrf} />
        <label for="managers">Managers (emails, separated by commas; empty for none)</label>
        <input id="managers" name="managers" value={props.managerEmails} size={80} />
        <button type="submit">Set managers</button>
      </form>
    </Layout>
  );
}

export interface ImportOutcome {
  dryRun: boolean;
  rows: number;
  teamsCreated: number;
  usersCreated: number;
  usersUpdated: number;
  managerAssignments: number;
}

/** An importer problem (`line 3: email`, "not a valid email address") as a sentence: "Line 3: the email is not a valid email address". */
export function importLine(f: FieldProblem): string {
  const m = /^line (\d+): (.+)$/.exec(f.path);
  const field = m?.[2] ?? f.path;
  const where = m ? `Line ${m[1]}` : 'The file';
  if (field === 'row' || field === 'file') return `${where}: ${f.problem}`;
  const p = f.problem;
  const ending = /^(is|must|has|needs|cannot|can)\b/.test(p)
    ? ` ${p}`
    : /^(a|an|no|not)\b/.test(p)
      ? ` is ${p}`
      : /^duplicate\b/.test(p)
        ? ` is a ${p}`
        : `: ${p}`;
  return `${where}: the ${field}${ending}`;
}

export function ImportPage(props: { user: SignedInUser; csrf: string; csv: string; outcome?: ImportOutcome | undefined } & Messages) {
  const o = props.outcome;
  return (
    <Layout title="Import people" user={props.user} current="/admin/people">
      {props.error ? (
        <div class="notice error" role="alert">
          <p>{props.error}</p>
          <ul>
            {(props.fields ?? []).map((f) => (
              <li>{importLine(f)}</li>
            ))}
          </ul>
        </div>
      ) : null}
      {o ? (
        <p class="notice info" role="status">
          {o.dryRun ? 'Checked, nothing imported yet: ' : 'Imported: '}
          {o.rows} rows; {o.usersCreated} people {o.dryRun ? 'would be' : ''} created, {o.usersUpdated} updated, {o.teamsCreated} teams created,{' '}
          {o.managerAssignments} manager assignments.
        </p>
      ) : null}
      <p>
        One person per line, with a header line. Columns: <code>email</code>, <code>name</code> (required), <code>osUser</code>, <code>team</code>,{' '}
        <code>managerEmail</code>, <code>role</code>. Nothing is imported unless every line is good; check first.
      </p>
      <form method="post" action="/admin/people/import" aria-label="Import people">
        <input type="hidden" name="_csrf" value={props.csrf} />
        <label for="csv">CSV</label>
        <textarea id="csv" name="csv" rows={12} cols={100}>
          {props.csv}
        </textarea>
        <button type="submit" name="mode" value="check">
          Check (dry run)
        </button>{' '}
        <button type="submit" name="mode" value="import">
          Import
        </button>
      </form>
    </Layout>
  );
}

import { describeWorkingWeek, WEEKDAYS, type FieldProblem, type WorkingWeek } from '@icarus/shared';
import { Hono, type Context } from 'hono';
import type { AppEnv, RequireUser, SignedInUser } from '../../platform/env';
import { AppError } from '../../platform/errors';
import { readForm } from '../../platform/http/body';
import { Info, Problems } from '../../ui/components';
import { Layout } from '../../ui/layout';
import type { DirectoryService, PeopleAdmin } from '../directory';

export const WORKING_WEEK_PATH = '/admin/working-week';

const LABELS = { days: 'Working days', start: 'Start of the working day', end: 'End of the working day' };

/** What the form sent, kept as typed so a refused form comes back as it was. */
interface WeekForm {
  days: number[];
  start: string;
  end: string;
}

export function WorkingWeekPage(props: {
  user: SignedInUser;
  csrf: string;
  week: WorkingWeek;
  timeZone: string;
  form?: WeekForm | undefined;
  error?: string | undefined;
  fields?: FieldProblem[] | undefined;
  info?: string | undefined;
}) {
  const shown = props.form ?? props.week;
  const on = new Set(shown.days);
  const invalid = new Set((props.fields ?? []).map((f) => f.path.split('.')[0]));
  return (
    <Layout title="Working week" user={props.user} current={WORKING_WEEK_PATH}>
      <Problems message={props.error} fields={props.fields} labels={LABELS} />
      <Info text={props.info} />
      <p>
        Reports count active time outside these days and hours as after hours, in the organisation's time zone ({props.timeZone}). Now:{' '}
        <strong>{describeWorkingWeek(props.week)}</strong>. Focus time is counted on every day alike.
      </p>
      <form method="post" action={WORKING_WEEK_PATH} aria-label="Working week">
        <input type="hidden" name="_csrf" value={props.csrf} />
        <fieldset aria-invalid={invalid.has('days') ? 'true' : undefined}>
          <legend>Working days</legend>
          {WEEKDAYS.map((d) => (
            <label class="check">
              <input type="checkbox" name={`day.${d.day}`} checked={on.has(d.day)} /> {d.name}
            </label>
          ))}
        </fieldset>
        <label for="start">Start of the working day (24-hour clock)</label>
        <input id="start" name="start" type="time" value={shown.start} aria-invalid={invalid.has('start') ? 'true' : undefined} />
        <label for="end">End of the working day (24-hour clock)</label>
        <input id="end" name="end" type="time" value={shown.end} aria-invalid={invalid.has('end') ? 'true' : undefined} />
        <button type="submit">Save working week</button>
      </form>
    </Layout>
  );
}

/** The working-week page for admins: shown, and saved from its form with each problem in plain words. */
export function workingWeekPageRoutes(deps: {
  people: Pick<PeopleAdmin, 'workingWeek' | 'setWorkingWeek'>;
  directory: Pick<DirectoryService, 'findOrg'>;
  requireUser: RequireUser;
  csrfOf: (c: Context<AppEnv>) => Promise<string>;
}) {
  const admin = deps.requireUser('admin');
  async function page(c: Context<AppEnv>, extra: { form?: WeekForm; error?: string; fields?: FieldProblem[]; info?: string } = {}) {
    const user = c.get('user');
    const [week, org] = await Promise.all([deps.people.workingWeek(user), deps.directory.findOrg(user.orgId)]);
    return c.html(<WorkingWeekPage user={user} csrf={await deps.csrfOf(c)} week={week} timeZone={org?.timeZone ?? 'UTC'} {...extra} />);
  }
  return new Hono<AppEnv>()
    .get(WORKING_WEEK_PATH, admin, async (c) => {
      const saved = c.req.query('done') === 'saved';
      if (!saved) return page(c);
      const week = await deps.people.workingWeek(c.get('user'));
      return page(c, { info: `Saved. After hours is counted outside ${describeWorkingWeek(week)} from the next report on.` });
    })
    .post(WORKING_WEEK_PATH, admin, async (c) => {
      const body = await readForm(c);
      const form: WeekForm = {
        days: WEEKDAYS.filter((d) => body[`day.${d.day}`] !== undefined).map((d) => d.day),
        start: typeof body['start'] === 'string' ? body['start'] : '',
        end: typeof body['end'] === 'string' ? body['end'] : '',
      };
      try {
        await deps.people.setWorkingWeek(c.get('user'), form);
        return c.redirect(`${WORKING_WEEK_PATH}?done=saved`, 303);
      } catch (error) {
        if (!(error instanceof AppError) || error.code !== 'validation_failed') throw error;
        c.status(400);
        return page(c, { form, error: 'Nothing was saved. Please correct:', fields: error.fields ?? [] });
      }
    });
}

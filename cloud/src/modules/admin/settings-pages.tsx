import type { FieldProblem } from '@icarus/shared';
import type { SignedInUser } from '../../platform/env';
import { ActionButton, DataTable, Info, Problems, when } from '../../ui/components';
import { Layout } from '../../ui/layout';
import { DEFAULT_RULES_RULE, type CategoryPreview } from '../analytics';

export interface Messages {
  error?: string | undefined;
  fields?: FieldProblem[] | undefined;
  info?: string | undefined;
}

export interface RuleRow {
  app: string;
  title: string;
  category: string;
  productivity: string;
}

export const RULE_LABELS = {
  rules: 'the rules',
  'rules.*': 'Rule',
  'rules.*.app': 'the app pattern',
  'rules.*.title': 'the title pattern',
  'rules.*.category': 'the category',
  'rules.*.productivity': 'the productivity',
  url: 'the address',
  events: 'the events',
};

const hours = (ms: number) => `${(ms / 3_600_000).toFixed(1)} h`;

function PreviewTable(props: { preview: CategoryPreview }) {
  const p = props.preview;
  if (p.rules.length === 0) return <p role="status">These rules move no app of the last 28 days ({`${p.from} to ${p.to}`}).</p>;
  return (
    <section aria-labelledby="preview-heading">
      <h2 id="preview-heading">What saving would change</h2>
      <p role="status">
        From {p.from} to {p.to}: {hours(p.movedMs)} of {hours(p.totalMs)} would move to another category.
      </p>
      <DataTable label="Preview" head={['Rule', 'App', 'From', 'To', 'Time']} numeric={[false, false, false, false, true]}>
        {p.rules.flatMap((r) =>
          r.moves.map((m) => (
            <tr>
              <td>{r.rule === null ? 'built-in rules' : `Rule ${r.rule}${r.titleDependent ? ' (title rule: by app name only)' : ''}`}</td>
              <td>{m.app}</td>
              <td>{m.from}</td>
              <td>{m.to}</td>
              <td class="num">{hours(m.activeMs)}</td>
            </tr>
          )),
        )}
      </DataTable>
    </section>
  );
}

export function CategoriesPage(
  props: {
    user: SignedInUser;
    csrf: string;
    rules: RuleRow[];
    defaults: readonly { app: string; category: string; productivity: string }[];
    preview?: CategoryPreview | undefined;
  } & Messages,
) {
  const rows = [...props.rules, ...Array.from({ length: 3 }, () => ({ app: '', title: '', category: '', productivity: 'neutral' }))];
  return (
    <Layout title="Categories" user={props.user} current="/admin/categories">
      <Problems message={props.error} fields={props.fields} labels={RULE_LABELS} />
      <Info text={props.info} />
      <p>
        Your rules are tried in order before the built-in ones; the first match decides. Patterns are regular expressions matched against the app name (any
        case). Preview shows what would move over the last 28 days before anything is saved; saving recomputes reports in the background.
      </p>
      {props.preview ? <PreviewTable preview={props.preview} /> : null}
      <form method="post" action="/admin/categories" aria-label="Category rules">
        <input type="hidden" name="_csrf" value={props.csrf} />
        {rows.map((r, i) => (
          <fieldset>
            <legend>Rule {i + 1}</legend>
            <label for={`rules.${i}.app`}>Rule {i + 1} app pattern</label>
            <input id={`rules.${i}.app`} name={`rules.${i}.app`} value={r.app} />
            <label for={`rules.${i}.title`}>Rule {i + 1} title pattern (optional)</label>
            <input id={`rules.${i}.title`} name={`rules.${i}.title`} value={r.title} />
            <label for={`rules.${i}.category`}>Rule {i + 1} category</label>
            <input id={`rules.${i}.category`} name={`rules.${i}.category`} value={r.category} />
            <label for={`rules.${i}.productivity`}>Rule {i + 1} productivity</label>
            <select id={`rules.${i}.productivity`} name={`rules.${i}.productivity`}>
              {['productive', 'neutral', 'unproductive'].map((p) => (
                <option value={p} selected={r.productivity === p}>
                  {p}
                </option>
              ))}
            </select>
          </fieldset>
        ))}
        <button type="submit" formaction="/admin/categories/preview">
          Preview changes
        </button>{' '}
        <button type="submit">Save rules</button>
      </form>
      <h2>Built-in rules</h2>
      <p class="rule">{DEFAULT_RULES_RULE}</p>
      <DataTable label="Built-in rules" head={['App pattern', 'Category', 'Productivity']}>
        {props.defaults.map((d) => (
          <tr>
            <td>
              <code>{d.app}</code>
            </td>
            <td>{d.category}</td>
            <td>{d.productivity}</td>
          </tr>
        ))}
      </DataTable>
    </Layout>
  );
}

export function WebhooksPage(
  props: {
    user: SignedInUser;
    csrf: string;
    events: readonly string[];
    webhooks: { id: string; url: string; events: string[]; createdAt: string }[];
    /** Endpoints the server disabled: when, why and what the receiver last said. */
    disabled: { id: string; url: string; events: string[]; disabledAt: string; reason: 'gone' | 'failing'; detail: string | null }[];
    deliveries: {
      id: string;
      event: string;
      channel: string;
      target: string;
      status: string;
      attempts: number;
      lastError: string | null;
      createdAt: string;
      deliveredAt: string | null;
    }[];
    created?: { url: string; secret: string } | undefined;
    values?: { url: string; events: string[] } | undefined;
  } & Messages,
) {
  const urls = new Map([...props.webhooks, ...props.disabled].map((w) => [w.id, w.url]));
  const why = (w: (typeof props.disabled)[number]) =>
    w.reason === 'gone'
      ? 'It answered 410 Gone: the receiver said it takes no more deliveries.'
      : `A delivery failed through every retry; the last answer: ${w.detail ?? 'none'}.`;
  const chosen = new Set(props.values?.events ?? props.events);
  return (
    <Layout title="Webhooks" user={props.user} current="/admin/webhooks">
      <Problems message={props.error} fields={props.fields} labels={RULE_LABELS} />
      <Info text={props.info} />
      {props.created ? (
        <div class="notice info" role="status">
          <p>
            Added {props.created.url}. Its signing secret, shown this once: <code>{props.created.secret}</code>
          </p>
        </div>
      ) : null}
      <h2>Endpoints</h2>
      <DataTable label="Endpoints" head={['Address', 'Events', 'Added', 'Actions']}>
        {props.webhooks.map((w) => (
          <tr>
            <td>{w.url}</td>
            <td>{w.events.join(', ')}</td>
            <td>{when(w.createdAt)}</td>
            <td>
              <ActionButton action={`/admin/webhooks/${w.id}/test`} csrf={props.csrf} label={`Send a test to ${w.url}`} />{' '}
              <ActionButton action={`/admin/webhooks/${w.id}/remove`} csrf={props.csrf} label={`Remove ${w.url}`} danger />
            </td>
          </tr>
        ))}
      </DataTable>
      {props.disabled.length > 0 ? (
        <>
          <h2>Disabled endpoints</h2>
          <p>
            These receive nothing. Re-enabling keeps the address and signing secret, and sends a test delivery at once: the history below shows whether the
            receiver takes it.
          </p>
          <DataTable label="Disabled endpoints" head={['Address', 'Events', 'Disabled', 'Why', 'Actions']}>
            {props.disabled.map((w) => (
              <tr>
                <td>{w.url}</td>
                <td>{w.events.join(', ')}</td>
                <td>{when(w.disabledAt)}</td>
                <td>{why(w)}</td>
                <td>
                  <ActionButton action={`/admin/webhooks/${w.id}/enable`} csrf={props.csrf} label={`Re-enable ${w.url} and send a test`} />
                </td>
              </tr>
            ))}
          </DataTable>
        </>
      ) : null}
      <form method="post" action="/admin/webhooks" aria-label="Add an endpoint">
        <input type="hidden" name="_csrf" value={props.csrf} />
        <label for="url">Address (https; private addresses are refused)</label>
        <input id="url" name="url" value={props.values?.url ?? ''} size={60} />
        <fieldset>
          <legend>Events</legend>
          {props.events.map((e) => (
            <label class="check">
              <input type="checkbox" name={`event.${e}`} checked={chosen.has(e)} /> {e}
            </label>
          ))}
        </fieldset>
        <button type="submit">Add endpoint</button>
      </form>
      <h2>Delivery history</h2>
      <p>
        The latest deliveries to webhooks, newest first. <a href="/admin/webhooks">Refresh</a>
      </p>
      <DataTable label="Deliveries" head={['Queued', 'Event', 'Endpoint', 'Status', 'Attempts', 'Delivered', 'Last error']}>
        {props.deliveries.map((d) => (
          <tr>
            <td>{when(d.createdAt)}</td>
            <td>{d.event}</td>
            <td>{urls.get(d.target) ?? 'removed endpoint'}</td>
            <td>{d.status}</td>
            <td class="num">{d.attempts}</td>
            <td>{when(d.deliveredAt)}</td>
            <td>{d.lastError ?? ''}</td>
          </tr>
        ))}
      </DataTable>
    </Layout>
  );
}

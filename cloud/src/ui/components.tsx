import type { Child } from 'hono/jsx';
import type { FieldProblem } from '@icarus/shared';
import { plainProblems, type FieldLabels } from './plain-problems';

/**
 * A refused action or form: the message and every field zod named, announced on load. With
 * `labels` (the form's names for its fields) each problem reads as a sentence instead.
 */
export function Problems(props: { message?: string | undefined; fields?: FieldProblem[] | undefined; labels?: FieldLabels | undefined }) {
  if (!props.message) return null;
  if (props.labels && props.fields && props.fields.length > 0) {
    return (
      <div class="notice error" role="alert">
        <p>{props.message}</p>
        <ul>
          {plainProblems(props.fields, props.labels).map((line) => (
            <li>{line}</li>
          ))}
        </ul>
      </div>
    );
  }
  return (
    <div class="notice error" role="alert">
      <p>{props.message}</p>
      {props.fields && props.fields.length > 0 ? (
        <ul>
          {props.fields.map((f) => (
            <li>
              <code>{f.path}</code>: {f.problem}
            </li>
          ))}
        </ul>
      ) : null}
    </div>
  );
}

/** An error or notice, announced by screen readers when the page loads. */
export function Notice(props: { kind: 'error' | 'info'; text: string | undefined }) {
  if (!props.text) return null;
  return (
    <p class={`notice ${props.kind}`} role={props.kind === 'error' ? 'alert' : 'status'}>
      {props.text}
    </p>
  );
}

/** A confirmation after an action (the `?done=` of a redirect). */
export function Info(props: { text?: string | undefined }) {
  return <Notice kind="info" text={props.text} />;
}

/** A one-button form posting with the session's CSRF token. */
export function ActionButton(props: { action: string; csrf: string; label: string; danger?: boolean }) {
  return (
    <form method="post" action={props.action} class="inline">
      <input type="hidden" name="_csrf" value={props.csrf} />
      <button type="submit" class={props.danger ? 'danger' : undefined}>
        {props.label}
      </button>
    </form>
  );
}

/**
 * A table with column headers; it scrolls sideways inside its own box on a narrow screen, or with
 * `cards` becomes one card per row there (cells then need `data-label` naming their column). A
 * labelled table's box is a focusable region of that name, so a keyboard can scroll it too.
 */
export function DataTable(props: { label?: string; head: readonly string[]; numeric?: readonly boolean[]; cards?: boolean; children: Child }) {
  return (
    <div class="table-wrap" {...(props.label && !props.cards ? { tabindex: 0, role: 'region', 'aria-label': props.label } : {})}>
      <table aria-label={props.label} class={props.cards ? 'cards' : undefined}>
        <thead>
          <tr>
            {props.head.map((h, i) => (
              <th scope="col" class={props.numeric?.[i] ? 'num' : undefined}>
                {h}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>{props.children}</tbody>
      </table>
    </div>
  );
}

/** An ISO instant as people read it on these pages: `2026-12-01 08:34:22 UTC`, or a dash for none. */
export const when = (iso: string | null) => (iso ? iso.replace('T', ' ').slice(0, 19) + ' UTC' : '—');

const zoneFormats = new Map<string, Intl.DateTimeFormat>();
/**
 * An ISO instant in a time zone, as people read it: `2026-12-01 09:34 CET`. The pages an org's
 * people read (the fleet, the audit log, My data) speak the org's time, not UTC.
 */
export function whenIn(iso: string | null, timeZone: string): string {
  if (!iso) return '—';
  let format = zoneFormats.get(timeZone);
  if (!format) {
    format = new Intl.DateTimeFormat('en-CA', {
      timeZone,
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      hourCycle: 'h23',
      timeZoneName: 'short',
    });
    zoneFormats.set(timeZone, format);
  }
  const parts = Object.fromEntries(format.formatToParts(new Date(iso)).map((p) => [p.type, p.value]));
  return `${parts['year']}-${parts['month']}-${parts['day']} ${parts['hour']}:${parts['minute']} ${parts['timeZoneName']}`;
}

/**
 * A refused form in plain words: one line per field, named by its label as the form shows it,
 * and nothing else repeated (the message is only shown when no field is named).
 */
export function FormProblems(props: { message?: string | undefined; fields?: FieldProblem[] | undefined; labels: Record<string, string> }) {
  if (!props.message && !(props.fields && props.fields.length > 0)) return null;
  const fields = props.fields ?? [];
  const seen = new Set<string>();
  const once = fields.filter((f) => (seen.has(f.path) ? false : (seen.add(f.path), true)));
  return (
    <div class="notice error" role="alert">
      {once.length === 0 ? (
        <p>{props.message}</p>
      ) : (
        <>
          <p>{once.length === 1 ? 'Please correct this field:' : 'Please correct these fields:'}</p>
          <ul>
            {once.map((f) => (
              <li>
                <strong>{props.labels[f.path] ?? f.path}</strong>: {f.problem}
              </li>
            ))}
          </ul>
        </>
      )}
    </div>
  );
}

/** "Previous / page 2 of 9 / Next" links: `href(n)` builds the URL of page n (1-based). */
export function Pager(props: { page: number; pages: number; href: (page: number) => string; label: string }) {
  if (props.pages <= 1) return null;
  return (
    <nav class="pager" aria-label={props.label}>
      {props.page > 1 ? <a href={props.href(props.page - 1)}>Previous page</a> : null}
      <span>{`Page ${props.page} of ${props.pages}`}</span>
      {props.page < props.pages ? <a href={props.href(props.page + 1)}>Next page</a> : null}
    </nav>
  );
}

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

/** A table with column headers; it scrolls sideways inside its own box on a narrow screen. */
export function DataTable(props: { label?: string; head: readonly string[]; numeric?: readonly boolean[]; children: Child }) {
  return (
    <div class="table-wrap">
      <table aria-label={props.label}>
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

import type { Child } from 'hono/jsx';
import type { SignedInUser } from '../platform/env';
import type { FieldProblem } from '@icarus/shared';
import { Layout } from './report-layout';

/** The admin and audit pages: the shared frame with the admin stylesheet (forms, bordered tables). */
export function AdminLayout(props: { title: string; user: SignedInUser; current: string; children: Child }) {
  return (
    <Layout title={props.title} styles={CSS} user={props.user} current={props.current}>
      {props.children}
    </Layout>
  );
}

/** A refused action or form: the message and every field zod named, announced on load. */
export function Problems(props: { message?: string | undefined; fields?: FieldProblem[] | undefined }) {
  if (!props.message) return null;
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

export function Info(props: { text?: string | undefined }) {
  return props.text ? (
    <p class="notice info" role="status">
      {props.text}
    </p>
  ) : null;
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

export const when = (iso: string | null) => (iso ? iso.replace('T', ' ').slice(0, 19) + ' UTC' : '—');

const CSS = `
body{font:15px/1.5 system-ui,sans-serif;margin:0;background:#f6f7f9;color:#1b1f24}
header.top{display:flex;flex-wrap:wrap;gap:1rem;align-items:center;padding:.6rem 1.25rem;background:#14223a;color:#fff}
header.top a{color:#fff;margin-right:1rem}a[aria-current=page]{font-weight:700;text-decoration:underline}.who{margin-left:auto}.brand{font-weight:700}
.skip{position:absolute;left:-999px}.skip:focus{left:1rem;top:.5rem;background:#fff;padding:.5rem;z-index:9}
main{max-width:1200px;margin:0 auto;padding:1rem 1.25rem 3rem}
h1{font-size:1.5rem}h2{font-size:1.15rem;margin-top:1.5rem}
table{border-collapse:collapse;width:100%;background:#fff;margin:.5rem 0}th,td{border:1px solid #d6dae0;padding:.35rem .5rem;text-align:left;vertical-align:top}
th{background:#eef1f5}
fieldset{background:#fff;border:1px solid #d6dae0;border-radius:6px;margin:1rem 0;padding:.75rem 1rem}
label{display:block;font-weight:600;margin:.6rem 0 .2rem}label.check{display:inline;font-weight:400}
input,select,textarea{font:inherit;padding:.35rem;border:1px solid #8a929c;border-radius:4px;max-width:100%}textarea{width:100%;min-height:5rem}
button{padding:.45rem 1rem;font:inherit;border:0;border-radius:4px;background:#1f5fbf;color:#fff;cursor:pointer;margin:.25rem .25rem .25rem 0}
button.danger{background:#b3261e}form.inline{display:inline}
.notice{padding:.6rem .8rem;border-radius:4px}.error{background:#fde8e8;color:#8a1111}.info{background:#e8f1fd}
.widens{color:#b3261e;font-weight:600}.ok{color:#1d7a46;font-weight:600}.bad{color:#b3261e;font-weight:700}
code{word-break:break-all;background:#f0f2f5;padding:.1rem .3rem}
:focus-visible{outline:3px solid #f0a500;outline-offset:2px}
@media print{header.top,form,button,.noprint,.skip{display:none}body{background:#fff}main{max-width:none}}
`;

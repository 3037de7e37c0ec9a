import type { Child } from 'hono/jsx';
import { Layout } from './report-layout';

/** The sign-in, account and "my data" pages: the shared frame with the small card stylesheet, no navigation. */
export function CardLayout(props: { title: string; children: Child }) {
  return (
    <Layout title={props.title} styles={CSS}>
      {props.children}
    </Layout>
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

const CSS = `
body{font:16px/1.5 system-ui,sans-serif;margin:0;background:#f6f7f9;color:#1b1f24}
main{max-width:28rem;margin:3rem auto;padding:2rem;background:#fff;border-radius:8px;box-shadow:0 1px 3px #0002}
h1{font-size:1.4rem;margin-top:0}
label{display:block;margin:1rem 0 .25rem;font-weight:600}
input{width:100%;box-sizing:border-box;padding:.5rem;font:inherit;border:1px solid #8a929c;border-radius:4px}
button{margin-top:1.25rem;padding:.55rem 1.2rem;font:inherit;border:0;border-radius:4px;background:#1f5fbf;color:#fff;cursor:pointer}
button.link{background:none;color:#1f5fbf;padding:0;text-decoration:underline}
:focus-visible{outline:3px solid #f0a500;outline-offset:2px}
.notice{padding:.6rem .8rem;border-radius:4px}.error{background:#fde8e8;color:#8a1111}.info{background:#e8f1fd}
code{word-break:break-all;background:#f0f2f5;padding:.1rem .3rem}
`;

import type { Role } from '../platform/env';
import { Layout } from './layout';

const TITLES: Record<number, string> = {
  400: 'That request could not be used',
  403: 'You cannot open this page',
  404: 'Page not found',
  408: 'The request took too long',
  409: 'That cannot be done now',
  413: 'That is too large',
  429: 'Too many requests',
  500: 'Something went wrong',
  503: 'The service is unavailable',
};

/**
 * A refused or failed page in the shell: what happened in plain words, the request id to quote,
 * and where to go from here. API paths answer JSON instead (app.ts decides).
 */
export function ErrorPage(props: { status: number; message: string; requestId?: string | undefined; user?: { name: string; role: Role } | undefined }) {
  const title = TITLES[props.status] ?? 'That request was refused';
  return (
    <Layout title={title} width="reading" user={props.user}>
      <p class="notice error" role="alert">
        {props.message}
      </p>
      {props.status === 404 ? <p>The address may be mistyped, or the page was moved or removed.</p> : null}
      {props.status === 403 ? <p>Your role does not include this page. If you need it, ask your administrator.</p> : null}
      {props.status >= 500 ? <p>It was not your fault. Try again in a moment; if it keeps happening, tell your administrator.</p> : null}
      <p>
        {props.user ? <a href="/">Go to your home page</a> : <a href="/sign-in">Sign in</a>}
        {props.requestId ? (
          <span class="small">
            {' '}
            · Request id <code>{props.requestId}</code>
          </span>
        ) : null}
      </p>
    </Layout>
  );
}

/** The page as a value, for code that renders it outside JSX (the app's error handlers). */
export const errorPage = (props: Parameters<typeof ErrorPage>[0]) => <ErrorPage {...props} />;

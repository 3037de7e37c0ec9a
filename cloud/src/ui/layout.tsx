import type { Child } from 'hono/jsx';
import type { Role } from '../platform/env';
import { assetUrl, type AssetName } from './assets';

interface NavLink {
  href: string;
  label: string;
  roles: readonly Role[];
  /** Shown to works-council members too, whatever their role. */
  council?: true;
}

/** The main navigation: the pages each role works in. */
const NAV: readonly NavLink[] = [
  { href: '/me/data', label: 'My data', roles: ['employee'] },
  { href: '/reports/team', label: 'Team report', roles: ['manager', 'admin'] },
  { href: '/reports/org', label: 'Organisation', roles: ['admin'] },
  { href: '/admin/policies', label: 'Policies', roles: ['admin'], council: true },
  { href: '/admin/people', label: 'People', roles: ['admin'] },
  { href: '/admin/teams', label: 'Teams', roles: ['admin'] },
  { href: '/admin/categories', label: 'Categories', roles: ['admin'] },
  { href: '/admin/working-week', label: 'Working week', roles: ['admin'] },
  { href: '/admin/webhooks', label: 'Webhooks', roles: ['admin'] },
  { href: '/admin/devices', label: 'Devices', roles: ['admin'] },
  { href: '/admin/enrollment-tokens', label: 'Enrollment tokens', roles: ['admin'] },
  { href: '/admin/provisioning', label: 'Provisioning', roles: ['admin'] },
  { href: '/audit', label: 'Audit log', roles: ['admin', 'auditor'] },
  { href: '/audit/compliance', label: 'Compliance report', roles: ['admin', 'auditor'] },
];

/** Beside the name: every signed-in person has their own data (employees have it in the main navigation), an account, and a way out. */
const ACCOUNT: readonly NavLink[] = [
  { href: '/me/data', label: 'My data', roles: ['manager', 'admin', 'auditor'] },
  { href: '/account', label: 'Account', roles: ['employee', 'manager', 'admin', 'auditor'] },
  { href: '/sign-out', label: 'Sign out', roles: ['employee', 'manager', 'admin', 'auditor'] },
];

/**
 * How wide the page reads: `wide` for reports and admin tables, `reading` for a column of text
 * (the public policy, my data), `narrow` for the small card of sign-in and account pages.
 */
export type PageWidth = 'wide' | 'reading' | 'narrow';

export interface LayoutProps {
  title: string;
  /** The signed-in person; pages without one (sign-in, the public policy) have no navigation. */
  user?: { name: string; role: Role; worksCouncil?: boolean | undefined } | undefined;
  /** The navigation entry to mark as the current page. */
  current?: string;
  width?: PageWidth;
  /** Stylesheets and deferred scripts this page needs beyond the shared stylesheet. */
  styles?: readonly AssetName[];
  scripts?: readonly AssetName[];
  children: Child;
}

function Links(props: { links: readonly NavLink[]; role: Role; worksCouncil?: boolean | undefined; current: string | undefined }) {
  return (
    <>
      {props.links
        .filter((n) => n.roles.includes(props.role) || (n.council === true && props.worksCouncil === true))
        .map((n) => (
          <a href={n.href} aria-current={n.href === props.current ? 'page' : undefined}>
            {n.label}
          </a>
        ))}
    </>
  );
}

/**
 * The one page frame of every server-rendered cloud page: the shared stylesheet (a file, so the
 * CSP allows no inline style), a header with the navigation the person's role may use, and a
 * main landmark with the page's heading. Data for scripts goes in `data-*` attributes.
 */
export function Layout(props: LayoutProps) {
  const { user } = props;
  const width = props.width ?? 'wide';
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>{`${props.title} · Icarus Nova`}</title>
        {/* Named here, or browsers ask for /favicon.ico and log the 404 on every page. */}
        <link rel="icon" type="image/svg+xml" href={assetUrl('icon.svg')} />
        <link rel="stylesheet" href={assetUrl('app.css')} />
        {(props.styles ?? []).map((name) => (
          <link rel="stylesheet" href={assetUrl(name)} />
        ))}
        {(props.scripts ?? []).map((name) => (
          <script src={assetUrl(name)} defer></script>
        ))}
      </head>
      <body class={user ? `${width} signed-in` : width}>
        {user && (
          <>
            <a class="skip" href="#main">
              Skip to content
            </a>
            <header class="top">
              <a class="brand" href="/" aria-current={props.current === '/' ? 'page' : undefined}>
                Icarus Nova
              </a>
              <nav class="main" aria-label="Main">
                <Links links={NAV} role={user.role} worksCouncil={user.worksCouncil} current={props.current} />
              </nav>
              <nav class="who" aria-label="Account">
                <span class="name">
                  {user.name} <span class="role">({user.role})</span>
                </span>
                <Links links={ACCOUNT} role={user.role} current={props.current} />
              </nav>
            </header>
          </>
        )}
        <main id="main" tabindex={-1}>
          <h1>{props.title}</h1>
          {props.children}
        </main>
      </body>
    </html>
  );
}

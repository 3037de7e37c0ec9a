import type { Child } from 'hono/jsx';
import type { Role } from '../platform/env';

/** Every page a signed-in person can go to from the header, and the roles that may open it. */
const NAV: readonly { href: string; label: string; roles: readonly Role[] }[] = [
  { href: '/reports/team', label: 'Team report', roles: ['manager', 'admin'] },
  { href: '/reports/org', label: 'Organisation', roles: ['admin'] },
  { href: '/admin/policies', label: 'Policies', roles: ['admin'] },
  { href: '/admin/devices', label: 'Devices', roles: ['admin'] },
  { href: '/admin/enrollment-tokens', label: 'Enrollment tokens', roles: ['admin'] },
  { href: '/audit', label: 'Audit log', roles: ['admin', 'auditor'] },
  { href: '/audit/compliance', label: 'Compliance report', roles: ['admin', 'auditor'] },
];

/**
 * The one page frame of every server-rendered page: a header with the navigation the
 * person's role may use (pages without a signed-in person, like sign-in, have none), a main
 * landmark, and the stylesheet of the page family: reports read at 1280x800, on a phone and
 * printed; admin forms and tables; the small card of the sign-in and account pages.
 */
export function Layout(props: { title: string; styles: string; user?: { name: string; role: Role } | undefined; current?: string; head?: Child; children: Child }) {
  const { user } = props;
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>{`${props.title} · Icarus Nova`}</title>
        <style>{props.styles}</style>
        {props.head}
      </head>
      <body>
        {user && (
          <>
            <a class="skip" href="#main">
              Skip to content
            </a>
            <header class="top">
              <span class="brand">Icarus Nova</span>
              <nav aria-label="Main">
                {NAV.filter((n) => n.roles.includes(user.role)).map((n) => (
                  <a href={n.href} aria-current={n.href === props.current ? 'page' : undefined}>
                    {n.label}
                  </a>
                ))}
              </nav>
              <span class="who">
                {user.name} ({user.role})
              </span>
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

/** The report pages' stylesheet. */
export const CSS = `
:root{--fg:#1b1f24;--muted:#5a6270;--bg:#f6f7f9;--card:#fff;--accent:#1f5fbf;--line:#d6dae0;--good:#1d7a46;--bad:#b3261e}
*{box-sizing:border-box}
body{font:16px/1.5 system-ui,sans-serif;margin:0;background:var(--bg);color:var(--fg)}
.skip{position:absolute;left:-999px}.skip:focus{left:1rem;top:.5rem;background:#fff;padding:.5rem;z-index:9}
header.top{display:flex;flex-wrap:wrap;gap:1rem;align-items:center;padding:.6rem 1.25rem;background:#14223a;color:#fff}
header.top a{color:#fff}.brand{font-weight:700}.who{margin-left:auto;opacity:.85}
nav a{margin-right:1rem}nav a[aria-current=page]{font-weight:700;text-decoration:underline}
main{max-width:1200px;margin:0 auto;padding:1rem 1.25rem 3rem}
h1{font-size:1.5rem;margin:.5rem 0 1rem}h2{font-size:1.15rem;margin:1.5rem 0 .5rem}
a{color:var(--accent)}
:focus-visible{outline:3px solid #f0a500;outline-offset:2px}
form.filters{display:flex;flex-wrap:wrap;gap:.75rem 1rem;align-items:flex-end;background:var(--card);padding:1rem;border-radius:8px;box-shadow:0 1px 3px #0002}
form.filters label{display:flex;flex-direction:column;font-weight:600;font-size:.9rem;gap:.25rem}
select,input,button,.button{font:inherit;padding:.45rem .6rem;border:1px solid #8a929c;border-radius:4px;background:#fff;color:var(--fg)}
button,.button{background:var(--accent);color:#fff;border-color:var(--accent);cursor:pointer;text-decoration:none;display:inline-block}
.cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(180px,1fr));gap:1rem;margin:1rem 0}
.card{background:var(--card);border-radius:8px;padding:1rem;box-shadow:0 1px 3px #0002}
.card .label{color:var(--muted);font-size:.85rem}.card .value{font-size:1.6rem;font-weight:700}
.grid2{display:grid;grid-template-columns:1fr 1fr;gap:1.25rem}
.panel{background:var(--card);border-radius:8px;padding:1rem;box-shadow:0 1px 3px #0002;overflow-x:auto}
table{border-collapse:collapse;width:100%}th,td{text-align:left;padding:.35rem .5rem;border-bottom:1px solid var(--line)}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
.notice{padding:.75rem 1rem;border-radius:6px;background:#fff4d6;border:1px solid #e6c65c;margin:1rem 0}
.notice.error{background:#fde7e6;border-color:#e0a19c}
.muted{color:var(--muted)}
.bar{height:.6rem;background:var(--accent);border-radius:3px;min-width:2px}
.chart{width:100%;min-height:260px}
@media (max-width:760px){.grid2{grid-template-columns:1fr}.grid2>*{min-width:0;overflow-x:auto}table{font-size:.9rem}main{padding:.75rem}.card .value{font-size:1.3rem}form.filters>*{flex:1 1 100%}}
@media print{
  header.top,form.filters,.noprint,.skip{display:none!important}
  body{background:#fff;font-size:11pt}main{max-width:none;padding:0}
  .card,.panel{box-shadow:none;border:1px solid #999;break-inside:avoid}
  .grid2{grid-template-columns:1fr 1fr}a{color:inherit;text-decoration:none}
  @page{margin:14mm}
}
`;

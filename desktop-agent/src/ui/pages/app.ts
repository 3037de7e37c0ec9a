import { renderConsent } from './consent-page';
import { h } from './dom';
import { renderImports } from './imports-page';
import { renderMyData } from './mydata-page';
import { renderStatus } from './status-page';
import { common } from './strings';

/** One bundle for every screen: each HTML page names itself in <body data-page>. */
const pages: Record<string, (root: HTMLElement) => Promise<void>> = {
  consent: renderConsent,
  'my-data': renderMyData,
  imports: renderImports,
  status: renderStatus,
};

function nav(current: string): HTMLElement {
  const link = (page: string, href: string, label: string) => h('a', { href, 'aria-current': page === current ? 'page' : undefined }, label);
  return h(
    'nav',
    { 'aria-label': common.appName },
    link('status', 'status.html', common.navStatus),
    link('my-data', 'my-data.html', common.navMyData),
    link('consent', 'consent.html', common.navConsent),
    link('imports', 'imports.html', common.navImports),
  );
}

async function start(): Promise<void> {
  const page = document.body.dataset.page ?? 'status';
  const main = document.querySelector<HTMLElement>('main');
  if (!main) return;
  document.body.prepend(nav(page));
  main.setAttribute('aria-busy', 'true');
  main.textContent = common.loading;
  try {
    await (pages[page] ?? renderStatus)(main);
  } catch (error) {
    main.replaceChildren(h('p', { role: 'alert', class: 'error' }, common.errorPrefix + (error instanceof Error ? error.message : String(error))));
  } finally {
    main.removeAttribute('aria-busy');
  }
}

void start();

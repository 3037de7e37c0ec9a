import type { IcarusApi } from '../../preload/api';

/** The API the preload (Electron) or bridge.ts (browser) put on window; typed from the preload. */
declare global {
  interface Window {
    icarus: IcarusApi;
  }
}

type Child = Node | string | null | undefined | false;
type Attrs = Record<string, string | boolean | undefined>;

/**
 * Builds elements from data without ever parsing HTML, so window titles and app names from the
 * store cannot inject markup into the page (the CSP forbids inline script as a second wall).
 */
export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Attrs = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === false) continue;
    el.setAttribute(name, value === true ? '' : value);
  }
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child);
  }
  return el;
}

export function button(label: string, onClick: () => void | Promise<void>, attrs: Attrs = {}): HTMLButtonElement {
  const b = h('button', { type: 'button', ...attrs }, label);
  b.addEventListener('click', () => void onClick());
  return b;
}

/** Minutes and seconds as people read them: "1 h 05 min", "4 min", "12 s". */
export function duration(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min`;
  return `${Math.floor(m / 60)} h ${String(m % 60).padStart(2, '0')} min`;
}

export function localTime(iso: string): string {
  return new Date(iso).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
}

export function localDateTime(iso: string): string {
  return new Date(iso).toLocaleString([], { dateStyle: 'medium', timeStyle: 'short' });
}

/** A polite live region: screen readers announce results (saved, deleted, errors) without focus moves. */
export interface Announcer {
  el: HTMLElement;
  say(text: string, isError?: boolean): void;
  /** A handler that runs `work` and says what went wrong, if anything, prefixed with `errorPrefix`. */
  attempt(work: () => Promise<void>): () => Promise<void>;
}

export function announcer(errorPrefix = ''): Announcer {
  const el = h('p', { role: 'status', 'aria-live': 'polite', class: 'notice', id: 'notice' });
  const say = (text: string, isError = false) => {
    el.textContent = text;
    el.classList.toggle('error', isError);
  };
  return {
    el,
    say,
    attempt: (work) => async () => {
      try {
        await work();
      } catch (error) {
        say(errorPrefix + errorText(error), true);
      }
    },
  };
}

export function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

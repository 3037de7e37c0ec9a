/** What the core needs from the OS, behind small interfaces so tests and shells can swap them. */

export interface FrontWindow {
  /** The application, as the OS names it (WM_CLASS class on X11, the bundle name on macOS). */
  app: string;
  /** The raw title; the consent gate and the policy decide whether and how it is kept. */
  title: string;
}

/** `unavailable` means the source cannot work here at all (no display, no permission). */
export type SourceHealth = { ok: true } | { ok: false; problem: string };

export interface WindowSource {
  readonly name: string;
  /** The front window, or undefined when there is none (or the source cannot see it). */
  frontWindow(): Promise<FrontWindow | undefined>;
  health(): SourceHealth;
  close(): void;
}

export interface IdleSource {
  readonly name: string;
  /** Milliseconds since the last keyboard or pointer input, or undefined when unknown. */
  idleMs(): Promise<number | undefined>;
  health(): SourceHealth;
  close(): void;
}

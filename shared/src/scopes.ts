import { z } from 'zod';

/** What the agent may record. Each span field belongs to exactly one scope. */
export const Scope = z.enum(['app_usage', 'idle', 'window_titles']);
export type Scope = z.infer<typeof Scope>;
export const ALL_SCOPES: readonly Scope[] = Scope.options;

/** How a window title leaves the device when `window_titles` is granted. */
export const TitleMode = z.enum(['full', 'redacted', 'hashed']);
export type TitleMode = z.infer<typeof TitleMode>;

/** GDPR art. 6 basis a scope rests on; consent only where refusing costs nothing. */
export const LegalBasis = z.enum(['consent', 'legitimate_interest']);
export type LegalBasis = z.infer<typeof LegalBasis>;

export const Platform = z.enum(['linux', 'darwin', 'win32']);
export type Platform = z.infer<typeof Platform>;

// The fleet as IT reads it: one page of devices found by search, filter and sort in the database,
// and a health summary (agent versions, silent devices, dropped spans, failing capture).
import type { DeviceStore, FleetHealth, FleetQuery, FleetSort } from './store';

/** A device that has not synced for this long is silent: switched off, uninstalled or blocked. */
export const SILENT_AFTER_MS = 24 * 3_600_000;

/** Orders dotted versions numerically (0.10.0 after 0.9.2); a part that is not a number sorts as text. */
export function compareVersions(a: string, b: string): number {
  const pa = a.split(/[.+-]/);
  const pb = b.split(/[.+-]/);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const x = pa[i] ?? '';
    const y = pb[i] ?? '';
    const nx = /^\d+$/.test(x) ? Number(x) : NaN;
    const ny = /^\d+$/.test(y) ? Number(y) : NaN;
    const diff = !Number.isNaN(nx) && !Number.isNaN(ny) ? nx - ny : x.localeCompare(y);
    if (diff !== 0) return diff;
  }
  return 0;
}

export interface FleetSearch {
  text?: string | undefined;
  ownerIds?: readonly string[] | undefined;
  state: FleetQuery['state'];
  health?: FleetHealth | undefined;
  platform?: string | undefined;
  sort: FleetSort;
  descending: boolean;
  offset: number;
  limit: number;
}

export interface FleetSummary {
  active: number;
  revoked: number;
  silent: number;
  dropping: number;
  failing: number;
  unbound: number;
  /** Devices per agent version, newest first; `null` is a device that never said. */
  versions: { version: string | null; devices: number }[];
  newestVersion: string | null;
  outdated: number;
  platforms: string[];
}

export function createFleetSearch(store: DeviceStore, now: () => Date) {
  const silentBefore = () => new Date(now().getTime() - SILENT_AFTER_MS);

  async function summary(orgId: string): Promise<FleetSummary> {
    const groups = await store.fleetHealth(orgId, silentBefore());
    const totals = { active: 0, revoked: 0, silent: 0, dropping: 0, failing: 0, unbound: 0 };
    const perVersion = new Map<string | null, number>();
    for (const g of groups) {
      for (const key of Object.keys(totals) as (keyof typeof totals)[]) totals[key] += g[key];
      if (g.active > 0) perVersion.set(g.version, (perVersion.get(g.version) ?? 0) + g.active);
    }
    const versions = [...perVersion].map(([version, devices]) => ({ version, devices }));
    const platforms = [...new Set(groups.map((g) => g.platform))].sort();
    const known = versions.flatMap((v) => (v.version === null ? [] : [v.version])).sort(compareVersions);
    const newestVersion = known[known.length - 1] ?? null;
    const sorted = [...versions].sort((a, b) => (a.version === null ? 1 : b.version === null ? -1 : compareVersions(b.version, a.version)));
    const outdated = versions.filter((v) => v.version !== newestVersion).reduce((sum, v) => sum + v.devices, 0);
    return { ...totals, versions: sorted, newestVersion, outdated, platforms };
  }

  return {
    summary,
    /** One page of matching devices and how many match; "outdated" is measured against the fleet's newest version. */
    async search(orgId: string, q: FleetSearch, known?: FleetSummary) {
      const newestVersion = q.health === 'outdated' ? ((known ?? (await summary(orgId))).newestVersion ?? undefined) : undefined;
      // Unfiltered, the summary has already counted the matches.
      const unfiltered = !q.text && !q.health && !q.platform;
      const total =
        known && unfiltered ? (q.state === 'active' ? known.active : q.state === 'revoked' ? known.revoked : known.active + known.revoked) : undefined;
      return store.searchDevices(orgId, { ...q, silentBefore: silentBefore(), newestVersion }, total);
    },
  };
}

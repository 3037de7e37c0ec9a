/**
 * `icarus-agent export --format csv` opened in a spreadsheet runs nothing: a cell that would be
 * read as a formula gets a leading `'`. Real bundled agent, real SQLite store, real output.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { uuidv7 } from 'uuidv7';
import { AgentStore } from '../../desktop-agent/src/core/store/store';
import { agentBundle, agentHome, type AgentHome } from './agent-helpers';
import { enrollOffline } from './agent-offline';

const DDE = "=cmd|' /C calc'!A0";

describe('CSV export', () => {
  let bundle: Awaited<ReturnType<typeof agentBundle>>;
  let home: AgentHome;

  beforeAll(async () => {
    bundle = await agentBundle();
    home = agentHome(bundle.file);
    await enrollOffline(home.dataDir);
    const store = AgentStore.open(home.dataDir);
    const start = Date.now() - 60_000;
    store.spans.insert(
      [
        { id: uuidv7(), start, durationMs: 5000, app: 'excel', title: DDE },
        { id: uuidv7(), start: start + 5000, durationMs: 5000, app: '@SUM(A1:A9)', title: '+1, or -1' },
        { id: uuidv7(), start: start + 10_000, durationMs: 5000, app: 'term', title: '\tindented' },
        { id: uuidv7(), start: start + 15_000, durationMs: 5000, app: 'mail', title: 'a = b, plainly' },
      ],
      Date.now(),
    );
    store.close();
  });
  afterAll(() => {
    home.cleanup();
    bundle.remove();
  });

  it('neutralises cells a spreadsheet would run as formulas, and leaves ordinary text alone', async () => {
    const r = await home.cli(['export', '--format', 'csv']);
    expect(r.code).toBe(0);
    const lines = r.stdout.split('\r\n');
    expect(lines[0]).toBe('id,start,durationMs,app,title,idle,state');
    const row = (app: string) => lines.find((l) => l.includes(`,${app},`) || l.includes(`,"${app}",`)) ?? '';
    expect(row('excel')).toContain(`,excel,'${DDE},false,unsent`);
    expect(row("'@SUM(A1:A9)")).toContain(`,'@SUM(A1:A9),"'+1, or -1",false,unsent`);
    expect(row('term')).toContain(`,term,'\tindented,false,unsent`);
    expect(row('mail')).toContain(',mail,"a = b, plainly",false,unsent');
    // No cell anywhere starts with a formula character.
    for (const line of lines.slice(1)) for (const cell of line.split(',')) expect(cell).not.toMatch(/^"?[=+\-@\t\r]/);
  });
});

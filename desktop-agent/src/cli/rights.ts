import { createInterface } from 'node:readline';
import type { AgentStore } from '../core/store/store';
import { describeAction, type DataView, type ErasureRequest, type RightsClient } from '../core/sync/rights';
import type { Write } from './consent-prompt';

export function printViewers(viewers: readonly DataView[], write: Write): void {
  if (viewers.length === 0) {
    write('Nobody (manager, admin or auditor) has viewed your data so far.\n');
    return;
  }
  write(`Who viewed your data (${viewers.length}, newest first):\n`);
  for (const v of viewers) write(`  ${v.at}  ${v.actor.name} (${v.actor.role}): ${describeAction(v.action)}\n`);
}

export function printErasures(erasures: readonly ErasureRequest[], write: Write): void {
  if (erasures.length === 0) {
    write('No erasure requests yet.\n');
    return;
  }
  for (const e of erasures) {
    const done = e.completedAt ? `, ${e.state} ${e.completedAt}${e.spansRemoved !== null ? ` (${e.spansRemoved} spans removed)` : ''}` : `, ${e.state}`;
    write(`  ${e.id}  requested ${e.requestedAt} from ${e.via}${e.eraseLocal ? ', devices too' : ''}${done}\n`);
  }
}

/**
 * Asks once on standard input (terminal or pipe, like `consent`); true only for y/yes. Input
 * that ends without an answer is a no: erasure cannot be undone, so it never happens by default.
 */
export async function confirm(question: string, write: Write, input: NodeJS.ReadableStream = process.stdin): Promise<boolean> {
  const rl = createInterface({ input, terminal: false });
  try {
    write(question);
    const next = await rl[Symbol.asyncIterator]().next();
    const answer = next.done ? '' : next.value.trim().toLowerCase();
    if (!('isTTY' in input && input.isTTY === true)) write(`${answer}\n`);
    return answer === 'y' || answer === 'yes';
  } finally {
    rl.close();
  }
}

/** The person's erasure request, confirmed first; with `local`, this device's spans go at once too. */
export async function requestErasure(rights: RightsClient, store: AgentStore, local: boolean, write: Write, input?: NodeJS.ReadableStream): Promise<number> {
  write(
    `This asks your organisation's server to erase every span it holds about you and your share of its reports${
      local ? ', and erases every span on this device (and your other devices) too' : ''
    }. It cannot be undone.\n`,
  );
  if (!(await confirm('Erase? [y/n] ', write, input))) {
    write('nothing was erased\n');
    return 1;
  }
  const accepted = await rights.requestErasure(local);
  write(`erasure request ${accepted.id} accepted at ${accepted.requestedAt} (${accepted.state}); the server carries it out in the background\n`);
  if (local) {
    // The server also sends this device an erase_local directive; doing it now means the person
    // does not have to wait for the next sync to see it done.
    write(`erased ${store.spans.eraseAll()} spans on this device\n`);
  }
  write('see its progress with `icarus-agent erasures`\n');
  return 0;
}

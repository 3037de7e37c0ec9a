import { DeviceBinding, WIRE_PATHS } from '@icarus/shared';
import type { AgentStore } from '../store/store';
import type { TokenSource } from './auth';

/**
 * Who this device speaks for. The cloud decides (a pairing code the person made in the web app,
 * or IT's assignment); the agent only asks, remembers the answer for offline screens, and passes
 * a code on. The OS account name proves nothing and is never sent as a claim.
 */
export class BindingClient {
  constructor(
    private readonly store: AgentStore,
    private readonly tokens: TokenSource,
  ) {}

  /** The binding as the server says now; remembered, so status and screens can show it offline. */
  async refresh(): Promise<DeviceBinding> {
    return this.adopt(await this.tokens.api.request('GET', WIRE_PATHS.binding, DeviceBinding, { bearer: await this.tokens.token() }));
  }

  /** Binds the device to the person whose one-time code this is (from My data → Pair a computer). */
  async pair(code: string): Promise<DeviceBinding> {
    return this.adopt(await this.tokens.api.request('POST', WIRE_PATHS.pair, DeviceBinding, { body: { code }, bearer: await this.tokens.token() }));
  }

  /**
   * Remembers the binding. When it changed (another person, or unbound), the decision held here
   * was someone else's: it is dropped, so nothing is captured until the new person decides.
   */
  private adopt(binding: DeviceBinding): DeviceBinding {
    const state = this.store.state;
    const before = state.get('binding');
    if (before && (before.boundAt !== binding.boundAt || before.boundTo?.email !== binding.boundTo?.email)) state.delete('consent');
    state.set('binding', binding);
    return binding;
  }

  /** The last binding heard from the server; undefined before the first answer. */
  known(): DeviceBinding | undefined {
    return this.store.state.get('binding');
  }
}

/** One line for people: who the device records for, and how to fix it when that is wrong. */
export function describeBinding(binding: DeviceBinding | undefined): string {
  if (!binding) return 'bound to: not known yet (the agent has not reached the server)';
  if (!binding.boundTo) {
    return `bound to: nobody yet, so nothing is recorded or sent as anyone. Make a pairing code in the web app (My data → Pair a computer) and run \`icarus-agent pair <code>\`, or ask IT to assign this computer (OS account ${binding.osUser}).`;
  }
  const how = binding.method === 'pairing_code' ? 'by your pairing code' : binding.method === 'it_assignment' ? 'by IT' : 'by IT (enrollment token)';
  return `bound to: ${binding.boundTo.name} <${binding.boundTo.email}> (${how}). Not you? Pair again from your own account (\`icarus-agent pair <code>\`) or ask IT.`;
}

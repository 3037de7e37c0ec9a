import { compactVerify, createLocalJWKSet } from 'jose';
import { z } from 'zod';
import {
  ConsentResponse,
  EmployeeNotice,
  NOTICE_PATHS,
  NoticeAcknowledgment,
  Policy,
  POLICY_DIFF_PATH,
  PolicyDiff,
  WIRE_PATHS,
  canonicalJson,
  receiptFacts,
  type CollectionMethod,
  type ConsentDecision,
  type ConsentDecisionKind,
  type ConsentReceipt,
  type Directive,
  type Scope,
} from '@icarus/shared';
import type { Clock } from '../clock';
import type { AgentStore } from '../store/store';
import type { TokenSource } from '../sync/auth';
import type { ApiClient } from '../sync/http';
import { withDecision, withNewPolicy } from './gate';

const Jwks = z.object({
  keys: z.array(
    z.looseObject({ kty: z.string(), crv: z.string().optional(), x: z.string().optional(), kid: z.string().optional(), alg: z.string().optional() }),
  ),
});

export interface DecisionOutcome {
  receipt: ConsentReceipt;
  verified: boolean;
  verifyProblem?: string;
  withdrawn: Scope[];
  purged: number;
}

/**
 * Checks a receipt's Ed25519 signature against every key the server lists at
 * `/v1/receipt-keys` (current and retired, picked by the JWS `kid`), and that the payload shown
 * is the one signed. Throws saying what failed.
 */
export async function verifyReceipt(api: Pick<ApiClient, 'request'>, receipt: ConsentReceipt): Promise<void> {
  const jwks = await api.request('GET', WIRE_PATHS.receiptKeys, Jwks);
  const { payload } = await compactVerify(receipt.jws, createLocalJWKSet(jwks));
  const signed: unknown = JSON.parse(new TextDecoder().decode(payload));
  if (canonicalJson(signed) !== canonicalJson(receipt.payload)) {
    throw new Error('the signed payload differs from the receipt shown');
  }
}

/** Policy, consent decisions and server directives: the rules both `run` and `consent` share. */
export class ConsentService {
  constructor(
    private readonly store: AgentStore,
    private readonly tokens: TokenSource,
    private readonly clock: Clock,
    private readonly agentVersion: string,
  ) {}

  async fetchPolicy(): Promise<Policy> {
    const policy = await this.tokens.api.request('GET', WIRE_PATHS.policy, Policy, { bearer: await this.tokens.token() });
    this.adoptPolicy(policy);
    return policy;
  }

  /**
   * The employee notice of the policy version in force and whether this computer's person has
   * acknowledged it (here, on another device or on the web). The server answers 403
   * (device_unbound) for a computer bound to nobody.
   */
  async fetchNotice(): Promise<EmployeeNotice> {
    return this.tokens.api.request('GET', NOTICE_PATHS.notice, EmployeeNotice, { bearer: await this.tokens.token() });
  }

  /** Records the person's acknowledgment of the notice shown: its version and that version's hash. */
  async acknowledgeNotice(version: number, hash: string): Promise<NoticeAcknowledgment> {
    return this.tokens.api.request('POST', NOTICE_PATHS.acknowledgment, NoticeAcknowledgment, {
      body: { version, hash },
      bearer: await this.tokens.token(),
    });
  }

  /**
   * What changed from the version the person last decided on to the current one, so they are
   * re-asked knowing why. Undefined when there is nothing to compare (no earlier decision, or
   * they decided on this very version).
   */
  async changesSinceDecision(): Promise<PolicyDiff | undefined> {
    const from = this.store.state.get('consent')?.policyVersion;
    const current = this.store.state.get('policy')?.version;
    if (from === undefined || current === undefined || from === current) return undefined;
    return this.tokens.api.request('GET', `${POLICY_DIFF_PATH}?from=${from}`, PolicyDiff, { bearer: await this.tokens.token() });
  }

  /** Stores a policy; a newer version puts widened granted scopes on hold until a decision. */
  adoptPolicy(policy: Policy, serverSays: readonly Scope[] = []): void {
    const state = this.store.state;
    const previous = state.get('policy');
    if (previous && previous.version > policy.version) return;
    state.set('policy', policy);
    const consent = withNewPolicy(state.get('consent'), policy, serverSays);
    if (consent) state.set('consent', consent);
  }

  /** Sends a decision, verifies the signed receipt, then applies it on the device. */
  async decide(kind: ConsentDecisionKind, scopes: Scope[], method: CollectionMethod): Promise<DecisionOutcome> {
    const policy = this.store.state.get('policy');
    if (!policy) throw new Error('no policy on this device yet: the agent must reach the server first');
    const body: ConsentDecision = { policyVersion: policy.version, scopes, decision: kind, method, agentVersion: this.agentVersion };
    const { receipt } = await this.tokens.api.request('POST', WIRE_PATHS.consent, ConsentResponse, { body, bearer: await this.tokens.token() });
    const check = await this.verifyReceipt(receipt).then(
      () => ({ verified: true as const }),
      (error: unknown) => ({ verified: false as const, verifyProblem: error instanceof Error ? error.message : String(error) }),
    );
    const effectiveFrom = Math.max(this.clock.now(), Date.parse(receiptFacts(receipt.payload).consentAt));
    const { next, withdrawn } = withDecision(this.store.state.get('consent'), kind, scopes, policy, effectiveFrom);
    this.store.state.set('consent', next);
    this.store.state.addReceipt(receipt, this.clock.now(), check.verified);
    const purged = withdrawn.length > 0 ? this.store.spans.purgeScopes(withdrawn) : 0;
    return { receipt, withdrawn, purged, ...check };
  }

  /** Checks the receipt's Ed25519 signature against the server's published keys, and its payload. */
  async verifyReceipt(receipt: ConsentReceipt): Promise<void> {
    await verifyReceipt(this.tokens.api, receipt);
  }

  /** Obeys the server's directives, in order. Returns lines worth telling the person. */
  async applyDirectives(directives: readonly Directive[]): Promise<string[]> {
    const notes: string[] = [];
    const state = this.store.state;
    for (const d of directives) {
      switch (d.type) {
        case 'policy_changed': {
          let policy = state.get('policy');
          try {
            policy = await this.tokens.api.request('GET', WIRE_PATHS.policy, Policy, { bearer: await this.tokens.token() });
          } catch {
            // Offline right after the directive: hold the named scopes now, fetch the text later.
          }
          if (policy) this.adoptPolicy(policy, d.scopesNeedingConsent);
          const consent = state.get('consent');
          if (consent && d.scopesNeedingConsent.length > 0) {
            const held = consent.granted.filter((s) => d.scopesNeedingConsent.includes(s));
            state.set('consent', { ...consent, pending: [...new Set([...consent.pending, ...held])] });
          }
          notes.push(
            `policy v${d.policyVersion} needs your decision on: ${d.scopesNeedingConsent.join(', ') || 'nothing new'}; its monitoring notice is new too (icarus-agent notice, or the consent window)`,
          );
          break;
        }
        case 'consent_revoked': {
          const consent = state.get('consent');
          if (consent) {
            const revoked = d.scopes.length === 0 ? consent.granted : d.scopes;
            state.set('consent', { ...consent, granted: consent.granted.filter((s) => !revoked.includes(s)) });
            this.store.spans.purgeScopes(revoked);
          }
          notes.push(`consent revoked by the server (${d.reason}): ${d.scopes.join(', ') || 'all scopes'}`);
          break;
        }
        case 'pause': {
          const until = Date.parse(d.until);
          state.set('pauseUntilMs', Math.max(until, state.get('pauseUntilMs') ?? 0));
          notes.push(`paused by the server until ${d.until}: ${d.reason}`);
          break;
        }
        case 'erase_local': {
          const erased = this.store.spans.eraseAll();
          notes.push(`erased ${erased} spans on this device at the server's request: ${d.reason}`);
          break;
        }
        case 'binding_ended': {
          // Nobody to record for: capture stops at once (the agent reads the binding after these
          // directives); spans not yet sent stay here, and the server refuses them as unbound.
          const binding = state.get('binding');
          if (binding) state.set('binding', { ...binding, boundTo: null, boundAt: null, method: null });
          state.delete('consent');
          const text = `This computer no longer records for anyone: ${d.reason}. Nothing is captured until it is paired again.`;
          const messages = state.get('messages') ?? [];
          state.set('messages', [...messages.slice(-19), { id: `binding-ended-${this.clock.now()}`, text, receivedMs: this.clock.now() }]);
          notes.push(`binding ended by the server: ${d.reason}; capture has stopped`);
          break;
        }
        case 'import_withdrawn': {
          // Withdrawn elsewhere (My data on the web): the server erased it; this device's copy goes too.
          const erased = this.store.spans.deleteImported(d.grantId);
          const now = this.clock.now();
          const known = state.get('imports') ?? [];
          const grant = known.find((g) => g.id === d.grantId);
          if (grant && grant.withdrawnAt === null)
            state.set(
              'imports',
              known.map((g) => (g.id === d.grantId ? { ...g, withdrawnAt: new Date(now).toISOString() } : g)),
            );
          const period = grant ? ` (${grant.from.slice(0, 10)} to ${grant.to.slice(0, 10)})` : '';
          const text = `An import of your history${period} was withdrawn (${d.reason}): its ${erased} records were erased from this computer, and from the server.`;
          const messages = state.get('messages') ?? [];
          state.set('messages', [...messages.slice(-19), { id: `import-withdrawn-${d.grantId}`, text, receivedMs: now }]);
          notes.push(`import ${d.grantId} withdrawn (${d.reason}): erased ${erased} spans on this device`);
          break;
        }
        case 'message': {
          const messages = state.get('messages') ?? [];
          if (!messages.some((m) => m.id === d.id)) {
            state.set('messages', [...messages.slice(-19), { id: d.id, text: d.text, receivedMs: this.clock.now() }]);
            notes.push(`message: ${d.text}`);
          }
          break;
        }
      }
    }
    return notes;
  }
}

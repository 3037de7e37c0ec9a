import { diffLines } from 'diff';
import { managerPreview, managersSentence, scopeInfo, visibilityOf, type PolicyContent, type Scope } from '@icarus/shared';

/**
 * The compliance pack: the documents a controller's DPO and works council start from, written
 * from the policy version in force and the deployment's configuration, never typed by hand. One
 * pack per published policy version (the same version and configuration always give the same
 * text), so publishing a policy is what makes a new pack, and two versions compare line by line.
 * Every document says it is a draft to be reviewed, not legal advice.
 */
export interface PackPolicy {
  version: number;
  publishedAt: string;
  hash: string;
  url: string;
  content: PolicyContent;
}

/** A service that processes personal data on the controller's behalf, as the configuration names it. */
export interface PackProcessor {
  name: string;
  purpose: string;
  /** Where, as configured (host or bucket), never credentials. */
  location: string;
}

export interface PackInput {
  orgName: string;
  policy: PackPolicy;
  worksCouncilRequired: boolean;
  processors: readonly PackProcessor[];
}

export interface PackTable {
  caption: string;
  head: string[];
  rows: string[][];
}
export interface PackSection {
  title: string;
  paragraphs: string[];
  table?: PackTable;
}
export interface PackDocument {
  /** `dpia`, `record`, `notice` or `annex-<scope>`. */
  id: string;
  title: string;
  sections: PackSection[];
}
export interface CompliancePack {
  policyVersion: number;
  policyHash: string;
  publishedAt: string;
  documents: PackDocument[];
}

export const DRAFT_NOTE =
  'Draft generated from the configuration in force. It is a starting point for the controller and its data protection officer to review, complete and adopt; it is not legal advice.';

/** What the product cannot do, whatever the policy says: there is no code for it. */
export const NEVER_DOES = [
  'It never records keystrokes or typed text.',
  'It never takes screenshots, screen recordings, webcam or microphone input.',
  'It never infers emotions, moods or attention from any data (inferring emotions at work is prohibited by the EU AI Act, Art. 5(1)(f), save narrow medical and safety uses).',
  'It never reads the content of files, e-mails, messages or web pages.',
];

const BASIS: Record<string, string> = {
  consent: 'consent (GDPR Art. 6(1)(a)), refusable and withdrawable at any time without consequence',
  legitimate_interest: 'legitimate interest (GDPR Art. 6(1)(f)), subject to the balancing test below',
};

function titlesSentence(content: PolicyContent): string {
  if (!content.scopes.some((s) => s.scope === 'window_titles')) return 'Window titles are not collected.';
  if (content.titleMode === 'hashed') return 'Window titles are hashed on the device; no readable title leaves it.';
  if (content.titleMode === 'redacted')
    return `Window titles are sent after ${content.redactionRules.length} redaction rule${content.redactionRules.length === 1 ? '' : 's'} are applied on the device.`;
  return 'Window titles are sent as shown on screen.';
}

function whoSees(content: PolicyContent, worksCouncilRequired: boolean): string[][] {
  const groups = `Team totals of at least ${content.minGroupSize} people`;
  return [
    ['The employee', 'Everything recorded about them, in My data and in the agent; export and erasure on request'],
    [
      'Their manager',
      content.managersSeeIndividuals ? `Individual records of people who agreed, in teams they manage; otherwise ${groups.toLowerCase()}` : `${groups} only`,
    ],
    ['Admins', `${groups} in reports; device and consent status; the audit log`],
    ['Auditors', 'The audit log and the compliance report (who read what, consent coverage); no activity records'],
    [
      'Works council members',
      worksCouncilRequired
        ? 'Policy versions before publication; their approval is required to publish'
        : 'Policy versions before publication; they may approve',
    ],
  ];
}

function scopeRows(content: PolicyContent): string[][] {
  return content.scopes.map((s) => [scopeInfo(s.scope).label, s.purpose, BASIS[s.legalBasis] ?? s.legalBasis, scopeInfo(s.scope).fieldsCollected.join(', ')]);
}

function retentionSentence(content: PolicyContent): string {
  return `Activity records are kept ${content.retentionDays} days on the server and then deleted; unsent records are kept at most ${content.localRetentionDays} days on the device.`;
}

function dpia(input: PackInput): PackDocument {
  const c = input.policy.content;
  const scopes = c.scopes.map((s) => scopeInfo(s.scope).inSentence).join(', ');
  return {
    id: 'dpia',
    title: 'Data protection impact assessment (draft, GDPR Art. 35)',
    sections: [
      {
        title: 'Description of the processing',
        paragraphs: [
          `Controller: ${c.controller.name} (${c.controller.contact}). Policy version ${input.policy.version}, published ${input.policy.publishedAt}, hash ${input.policy.hash}.`,
          `Purpose as stated in the policy: ${c.purpose}`,
          `A desktop agent on employees' computers records ${scopes}, only for the scopes each person agreed to, and sends them to the cloud service. ${titlesSentence(c)}`,
          `A computer counts as idle after ${c.idleThresholdSeconds} seconds without input.${c.reviewBeforeSendMinutes > 0 ? ` Records wait ${c.reviewBeforeSendMinutes} minutes on the device so the person can review or delete them before they are sent.` : ''}`,
        ],
        table: { caption: 'Scopes', head: ['Scope', 'Purpose', 'Legal basis', 'Fields'], rows: scopeRows(c) },
      },
      {
        title: 'Necessity and proportionality',
        paragraphs: [
          'Each scope is asked for separately and recorded only after the person decides on their own computer; a signed receipt records each decision.',
          managersSentence(c),
          `Groups smaller than ${c.minGroupSize} people are not shown in reports.`,
          retentionSentence(c),
          'The controller should state here why the purpose cannot be reached with less data, and why each scope listed is needed.',
        ],
      },
      {
        title: 'Risks to the rights and freedoms of employees',
        paragraphs: [
          'Pressure to agree: people may feel that refusing a scope affects how they are judged.',
          c.managersSeeIndividuals
            ? 'Performance judgement from individual activity: managers can see individual records of people who agreed.'
            : 'Re-identification from small groups: mitigated by the group size threshold, which applies to every report.',
          c.scopes.some((s) => s.scope === 'window_titles') && c.titleMode !== 'hashed'
            ? 'Window titles may contain personal or sensitive information (document names, e-mail subjects).'
            : 'Readable window titles are not available to anyone in the organisation.',
          'Access beyond need: readers of personal data could look at more than their role requires.',
        ],
      },
      {
        title: 'Measures',
        paragraphs: [
          ...NEVER_DOES,
          'Every read of personal data is written to a hash-chained, signed audit log.',
          'Employees see, export and can ask to erase what is recorded about them in My data, and can withdraw any scope there or in the agent.',
          input.worksCouncilRequired
            ? 'Policy changes are published only after a works council member approves them.'
            : 'Policy changes are reviewed by a second person before they are published.',
          'A policy change that asks for more stops recording of the new scope until each person decides again.',
        ],
      },
    ],
  };
}

function record(input: PackInput): PackDocument {
  const c = input.policy.content;
  return {
    id: 'record',
    title: 'Record of processing activities (draft, GDPR Art. 30(1))',
    sections: [
      {
        title: 'Workforce activity reporting',
        paragraphs: [],
        table: {
          caption: 'Record of processing',
          head: ['Item', 'Entry'],
          rows: [
            ['Controller and contact', `${c.controller.name}, ${c.controller.contact}`],
            ['Data protection officer', 'To be completed by the controller'],
            ['Purposes', c.purpose],
            ['Categories of data subjects', 'Employees whose computers run the agent and who agreed to at least one scope'],
            ['Categories of personal data', c.scopes.map((s) => `${scopeInfo(s.scope).label} (${scopeInfo(s.scope).fieldsCollected.join(', ')})`).join('; ')],
            [
              'Recipients',
              whoSees(c, input.worksCouncilRequired)
                .map(([who]) => who)
                .join(', '),
            ],
            [
              'Processors',
              input.processors.length
                ? input.processors.map((p) => `${p.name}: ${p.purpose} (${p.location})`).join('; ')
                : 'None configured besides the hosting of this service',
            ],
            ['Transfers to third countries', 'To be completed by the controller for the hosting and processors above'],
            ['Time limits for erasure', retentionSentence(c)],
            [
              'Security measures (Art. 32)',
              'HTTPS between agent and service as deployed; window titles and secrets sealed at rest; per-device keys; signed consent receipts; signed audit log',
            ],
          ],
        },
      },
    ],
  };
}

function notice(input: PackInput): PackDocument {
  const c = input.policy.content;
  return {
    id: 'notice',
    title: 'Notice to employees of electronic monitoring',
    sections: [
      {
        title: 'What is recorded',
        paragraphs: [
          `${c.controller.name} records, on the computers where its agent is installed and only for what you agree to: ${c.scopes.map((s) => scopeInfo(s.scope).inSentence).join(', ')}. ${titlesSentence(c)}`,
          'Nothing is recorded until you decide, scope by scope, in the agent on your computer; it shows what this notice lists. You acknowledge that you received this notice in the agent on your computer, or in My data on the web.',
        ],
      },
      { title: 'Who sees it', paragraphs: managerPreview(visibilityOf(c)) },
      { title: 'How long it is kept', paragraphs: [retentionSentence(c)] },
      { title: 'What is never recorded', paragraphs: NEVER_DOES },
      {
        title: 'Your choices',
        paragraphs: [
          'You can refuse or withdraw any scope at any time, in the agent or in My data, and see, export or ask to erase what is recorded about you.',
          `Questions: ${c.controller.contact}. The full policy: ${input.policy.url}`,
          'This notice is written for the notice and acknowledgment that laws such as New York Civil Rights Law §52-c, Connecticut General Statutes §31-48d and Delaware Code title 19 §705 ask of employers; whether and how they apply is for the employer to confirm.',
        ],
      },
    ],
  };
}

function annex(input: PackInput, scope: Scope): PackDocument {
  const c = input.policy.content;
  const terms = c.scopes.find((s) => s.scope === scope);
  const info = scopeInfo(scope);
  return {
    id: `annex-${scope}`,
    title: `Works agreement annex: ${info.label} (draft, BetrVG §87(1) no. 6)`,
    sections: [
      {
        title: 'Scope',
        paragraphs: [
          `Fields recorded: ${info.fieldsCollected.join(', ')}. Purpose: ${terms?.purpose ?? ''} Legal basis: ${BASIS[terms?.legalBasis ?? ''] ?? ''}.`,
          `On the device: ${info.onDeviceTransform(c.titleMode)}.`,
        ],
      },
      {
        title: 'Who sees what',
        paragraphs: [],
        table: { caption: `Who sees ${info.label}`, head: ['Who', 'What'], rows: whoSees(c, input.worksCouncilRequired) },
      },
      { title: 'Retention', paragraphs: [retentionSentence(c)] },
      { title: 'Suppression', paragraphs: [`Figures about fewer than ${c.minGroupSize} people are withheld from every report and export.`] },
      { title: 'Excluded uses', paragraphs: NEVER_DOES },
    ],
  };
}

export function buildCompliancePack(input: PackInput): CompliancePack {
  return {
    policyVersion: input.policy.version,
    policyHash: input.policy.hash,
    publishedAt: input.policy.publishedAt,
    documents: [dpia(input), record(input), notice(input), ...input.policy.content.scopes.map((s) => annex(input, s.scope))],
  };
}

const cell = (text: string) => text.replace(/\|/g, '\\|').replace(/\n/g, ' ');

/** The pack as Markdown: one file, each document a top-level heading. */
export function packMarkdown(pack: CompliancePack): string {
  const out: string[] = [`<!-- policy v${pack.policyVersion} ${pack.policyHash} -->`, '', `> ${DRAFT_NOTE}`, ''];
  for (const doc of pack.documents) {
    out.push(`# ${doc.title}`, '');
    for (const section of doc.sections) {
      out.push(`## ${section.title}`, '');
      for (const p of section.paragraphs) out.push(p, '');
      if (section.table) {
        out.push(`| ${section.table.head.map(cell).join(' | ')} |`, `|${section.table.head.map(() => ' --- |').join('')}`);
        for (const row of section.table.rows) out.push(`| ${row.map(cell).join(' | ')} |`);
        out.push('');
      }
    }
  }
  return out.join('\n');
}

export interface PackDiffLine {
  change: 'added' | 'removed';
  text: string;
}

/** What changed between two packs, line by line of their Markdown (unchanged lines left out). */
export function diffPacks(from: CompliancePack, to: CompliancePack): PackDiffLine[] {
  const strip = (md: string) => md.split('\n').slice(1).join('\n'); // the version line always differs
  return diffLines(strip(packMarkdown(from)), strip(packMarkdown(to))).flatMap((part) =>
    part.added || part.removed
      ? part.value
          .split('\n')
          .filter((line) => line.trim() !== '')
          .map((text) => ({ change: part.added ? ('added' as const) : ('removed' as const), text }))
      : [],
  );
}

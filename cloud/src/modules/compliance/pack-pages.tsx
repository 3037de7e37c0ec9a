import type { SignedInUser } from '../../platform/env';
import { whenIn } from '../../ui/components';
import { Layout } from '../../ui/layout';
import { DRAFT_NOTE, type CompliancePack, type PackDiffLine } from './pack';
import type { PackView } from './pack-service';

export const PACK_PATHS = {
  page: '/audit/compliance/pack',
  markdown: '/audit/compliance/pack.md',
  diff: '/audit/compliance/pack/diff',
  acknowledgmentsCsv: '/audit/compliance/acknowledgments.csv',
  /** The employee's own copy of the notice, from My data, where they acknowledge it. */
  myNotice: '/me/data/notice',
} as const;

function PackBody(props: { pack: CompliancePack; only?: string }) {
  return (
    <>
      {props.pack.documents
        .filter((doc) => props.only === undefined || doc.id === props.only)
        .map((doc) => (
          <article class="pack-doc" id={doc.id} aria-labelledby={`${doc.id}-title`}>
            <h2 id={`${doc.id}-title`}>{doc.title}</h2>
            {doc.sections.map((section) => (
              <section>
                <h3>{section.title}</h3>
                {section.paragraphs.map((p) => (
                  <p>{p}</p>
                ))}
                {section.table ? (
                  <div class="table-wrap" tabindex={0} role="region" aria-label={section.table.caption}>
                    <table>
                      <caption>{section.table.caption}</caption>
                      <thead>
                        <tr>
                          {section.table.head.map((h) => (
                            <th scope="col">{h}</th>
                          ))}
                        </tr>
                      </thead>
                      <tbody>
                        {section.table.rows.map((row) => (
                          <tr>
                            {row.map((c) => (
                              <td>{c}</td>
                            ))}
                          </tr>
                        ))}
                      </tbody>
                    </table>
                  </div>
                ) : null}
              </section>
            ))}
          </article>
        ))}
    </>
  );
}

export function PackPage(props: { user: SignedInUser; view: PackView; acknowledged: { count: number; of: number } }) {
  const { pack, versions, currentVersion, orgName } = props.view;
  const previous = versions.find((v) => v < pack.policyVersion);
  return (
    <Layout title={`Compliance pack, policy v${pack.policyVersion}`} user={props.user} current="/audit/compliance">
      <p class="draft-note">
        <strong>{DRAFT_NOTE}</strong>
      </p>
      <p>
        {orgName}, policy version {pack.policyVersion}
        {pack.policyVersion === currentVersion ? ' (in force)' : ` (version ${currentVersion} is in force)`}, published {pack.publishedAt}.
      </p>
      <nav class="noprint" aria-label="Pack versions and exports">
        <p>
          <a href={`${PACK_PATHS.markdown}?version=${pack.policyVersion}`}>Download Markdown</a>
          {previous ? (
            <>
              {' '}
              · <a href={`${PACK_PATHS.diff}?from=${previous}&to=${pack.policyVersion}`}>What changed since v{previous}</a>
            </>
          ) : null}{' '}
          · print this page for a paper copy.
        </p>
        <p>
          Versions:{' '}
          {versions.map((v, i) => (
            <>
              {i > 0 ? ', ' : ''}
              {v === pack.policyVersion ? <strong>v{v}</strong> : <a href={`${PACK_PATHS.page}?version=${v}`}>v{v}</a>}
            </>
          ))}
        </p>
      </nav>
      <p>
        Employee notice acknowledged by {props.acknowledged.count} of {props.acknowledged.of} people for this version.{' '}
        <a class="noprint" href={`${PACK_PATHS.acknowledgmentsCsv}?version=${pack.policyVersion}`}>
          Acknowledgments as CSV
        </a>
      </p>
      <PackBody pack={pack} />
    </Layout>
  );
}

export function PackDiffPage(props: { user: SignedInUser; from: CompliancePack; to: CompliancePack; lines: PackDiffLine[] }) {
  return (
    <Layout title={`Compliance pack: v${props.from.policyVersion} to v${props.to.policyVersion}`} user={props.user} current="/audit/compliance">
      <p>
        What the pack says differently under policy version {props.to.policyVersion} than under version {props.from.policyVersion}.{' '}
        <a class="noprint" href={`${PACK_PATHS.page}?version=${props.to.policyVersion}`}>
          The whole pack for v{props.to.policyVersion}
        </a>
      </p>
      {props.lines.length === 0 ? (
        <p>Nothing changed.</p>
      ) : (
        <ul class="pack-diff" aria-label="Changes">
          {props.lines.map((l) => (
            <li class={l.change === 'added' ? 'diff-added' : 'diff-removed'}>
              <span class="diff-sign">{l.change === 'added' ? 'Added: ' : 'Removed: '}</span>
              {l.text}
            </li>
          ))}
        </ul>
      )}
    </Layout>
  );
}

export function MyNoticePage(props: { user: SignedInUser; pack: CompliancePack; acknowledgedAt: string | undefined; csrf: string; timeZone: string }) {
  return (
    <Layout title="Monitoring notice" width="reading" user={props.user} current="/me/data">
      {props.acknowledgedAt ? (
        <p role="status">
          You acknowledged this notice (policy version {props.pack.policyVersion}) on {whenIn(props.acknowledgedAt, props.timeZone)}.
        </p>
      ) : (
        <form method="post" action={PACK_PATHS.myNotice} class="noprint">
          <input type="hidden" name="_csrf" value={props.csrf} />
          <input type="hidden" name="version" value={String(props.pack.policyVersion)} />
          <p>Acknowledging says you have received and read this notice. It does not grant any scope: that is decided in the agent, scope by scope.</p>
          <button type="submit">I have read this notice</button>
        </form>
      )}
      <PackBody pack={props.pack} only="notice" />
    </Layout>
  );
}

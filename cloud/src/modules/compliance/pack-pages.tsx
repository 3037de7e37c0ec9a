import type { SignedInUser } from '../../platform/env';
import { Layout } from '../../ui/layout';
import { DRAFT_NOTE, type CompliancePack, type PackDiffLine } from './pack';
import type { PackView } from './pack-service';

export const PACK_PATHS = {
  page: '/audit/compliance/pack',
  markdown: '/audit/compliance/pack.md',
  diff: '/audit/compliance/pack/diff',
} as const;

function PackBody(props: { pack: CompliancePack }) {
  return (
    <>
      {props.pack.documents.map((doc) => (
        <article class="pack-doc" id={doc.id} aria-labelledby={`${doc.id}-title`}>
          <h2 id={`${doc.id}-title`}>{doc.title}</h2>
          {doc.sections.map((section) => (
            <section>
              <h3>{section.title}</h3>
              {section.paragraphs.map((p) => (
                <p>{p}</p>
              ))}
              {section.table ? (
                <div class="table-wrap">
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

export function PackPage(props: { user: SignedInUser; view: PackView }) {
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

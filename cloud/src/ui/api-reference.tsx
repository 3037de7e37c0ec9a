import { z } from 'zod';
import { Layout } from './layout';

/** The parts of an OpenAPI 3.1 document the reference page shows; the rest passes through unread. */
const Schema = z.record(z.string(), z.unknown());
type Schema = z.infer<typeof Schema>;
const Media = z.looseObject({ schema: Schema.optional(), example: z.unknown().optional() });
type Media = z.infer<typeof Media>;
const Operation = z.looseObject({
  operationId: z.string().optional(),
  summary: z.string().optional(),
  tags: z.array(z.string()).optional(),
  security: z.array(z.record(z.string(), z.array(z.string()))).optional(),
  parameters: z
    .array(z.looseObject({ name: z.string(), in: z.string(), required: z.boolean().optional(), description: z.string().optional(), schema: Schema.optional() }))
    .optional(),
  requestBody: z.looseObject({ required: z.boolean().optional(), content: z.record(z.string(), Media).optional() }).optional(),
  responses: z.record(z.string(), z.looseObject({ description: z.string().optional(), content: z.record(z.string(), Media).optional() })).optional(),
});
type Operation = z.infer<typeof Operation>;
const ApiDocument = z.looseObject({
  info: z.looseObject({ title: z.string(), version: z.string(), description: z.string().optional() }),
  servers: z.array(z.looseObject({ url: z.string(), description: z.string().optional() })).optional(),
  paths: z.record(
    z.string(),
    z.looseObject({
      get: Operation.optional(),
      post: Operation.optional(),
      put: Operation.optional(),
      patch: Operation.optional(),
      delete: Operation.optional(),
    }),
  ),
  components: z
    .looseObject({
      securitySchemes: z
        .record(
          z.string(),
          z.looseObject({
            type: z.string(),
            description: z.string().optional(),
            name: z.string().optional(),
            in: z.string().optional(),
            scheme: z.string().optional(),
          }),
        )
        .optional(),
    })
    .optional(),
});
type ApiDocument = z.infer<typeof ApiDocument>;

const METHODS = ['get', 'post', 'put', 'patch', 'delete'] as const;

/** `string`, `integer | null`, `object`…: the type a schema names, in one word where it can. */
function typeOf(schema: Schema | undefined): string {
  if (!schema) return '';
  const t = schema['type'];
  if (Array.isArray(t)) return t.join(' | ');
  if (typeof t === 'string') return Array.isArray(schema['enum']) ? `${t}: ${(schema['enum'] as unknown[]).join(', ')}` : t;
  if (Array.isArray(schema['anyOf'])) return (schema['anyOf'] as Schema[]).map(typeOf).join(' | ');
  return typeof schema['$ref'] === 'string' ? (schema['$ref'].split('/').pop() ?? '') : '';
}

function who(security: Record<string, string[]>[] | undefined): string {
  if (!security || security.length === 0) return 'public';
  return security.map((s) => Object.keys(s).join(' + ')).join(' or ');
}

function Content(props: { content: Record<string, Media> | undefined }) {
  return (
    <>
      {Object.entries(props.content ?? {}).map(([type, media]) => (
        <details>
          <summary>
            <code>{type}</code>
          </summary>
          {media.example !== undefined && (
            <>
              <p>Example</p>
              <pre>{typeof media.example === 'string' ? media.example : JSON.stringify(media.example, null, 2)}</pre>
            </>
          )}
          <p>Schema</p>
          <pre>{JSON.stringify(media.schema ?? {}, null, 2)}</pre>
        </details>
      ))}
    </>
  );
}

function OperationEntry(props: { method: string; path: string; op: Operation }) {
  const { op } = props;
  const id = op.operationId ?? `${props.method}-${props.path}`;
  return (
    <section id={id} aria-labelledby={`${id}-title`}>
      <h3 id={`${id}-title`}>
        <code>
          {props.method.toUpperCase()} {props.path}
        </code>
      </h3>
      <p>{op.summary}</p>
      <p>
        Operation <code>{op.operationId}</code> · who may call it: {who(op.security)}
      </p>
      {op.parameters && op.parameters.length > 0 && (
        <div class="table-wrap">
          <table>
            <caption>Parameters</caption>
            <thead>
              <tr>
                <th scope="col">name</th>
                <th scope="col">in</th>
                <th scope="col">type</th>
                <th scope="col">required</th>
                <th scope="col">description</th>
              </tr>
            </thead>
            <tbody>
              {op.parameters.map((p) => (
                <tr>
                  <td>
                    <code>{p.name}</code>
                  </td>
                  <td>{p.in}</td>
                  <td>{typeOf(p.schema)}</td>
                  <td>{p.required ? 'yes' : 'no'}</td>
                  <td>{p.description ?? (typeof p.schema?.['description'] === 'string' ? p.schema['description'] : '')}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {op.requestBody && (
        <>
          <h4>Request body{op.requestBody.required ? ' (required)' : ''}</h4>
          <Content content={op.requestBody.content} />
        </>
      )}
      <h4>Responses</h4>
      <dl>
        {Object.entries(op.responses ?? {}).map(([status, response]) => (
          <>
            <dt>
              <code>{status}</code>
            </dt>
            <dd>
              {response.description}
              <Content content={response.content} />
            </dd>
          </>
        ))}
      </dl>
    </section>
  );
}

/**
 * The API reference, rendered on the server from the same document as /openapi.json: no
 * script, no outside resource, so the strict CSP holds and it reads without JavaScript.
 */
export function ApiReferencePage(props: { doc: ApiDocument }) {
  const { doc } = props;
  const operations = Object.entries(doc.paths).flatMap(([path, item]) =>
    METHODS.flatMap((method) => {
      const op = item[method];
      return op ? [{ method, path, op, tag: op.tags?.[0] ?? 'other' }] : [];
    }),
  );
  const tags = [...new Set(operations.map((o) => o.tag))];
  return (
    <Layout title={`${doc.info.title} reference`} width="wide">
      <p>{doc.info.description}</p>
      <p>
        The machine-readable document: <a href="/openapi.json">/openapi.json</a> (OpenAPI 3.1). Server:{' '}
        {(doc.servers ?? []).map((s) => (
          <code>{s.url}</code>
        ))}
      </p>
      <h2>Credentials</h2>
      <dl>
        {Object.entries(doc.components?.securitySchemes ?? {}).map(([name, scheme]) => (
          <>
            <dt>
              <code>{name}</code>
            </dt>
            <dd>
              {scheme.type === 'http' ? `HTTP ${scheme.scheme ?? ''}` : `${scheme.in ?? ''} ${scheme.name ?? ''}`}: {scheme.description}
            </dd>
          </>
        ))}
      </dl>
      <nav aria-label="Operations">
        <ul>
          {tags.map((tag) => (
            <li>
              <a href={`#tag-${tag.replace(/\W+/g, '-')}`}>{tag}</a>
            </li>
          ))}
        </ul>
      </nav>
      {tags.map((tag) => (
        <section id={`tag-${tag.replace(/\W+/g, '-')}`} aria-labelledby={`tag-${tag.replace(/\W+/g, '-')}-title`}>
          <h2 id={`tag-${tag.replace(/\W+/g, '-')}-title`}>{tag}</h2>
          {operations
            .filter((o) => o.tag === tag)
            .map((o) => (
              <OperationEntry method={o.method} path={o.path} op={o.op} />
            ))}
        </section>
      ))}
    </Layout>
  );
}

/** For callers outside JSX (the composition root is plain TypeScript). */
export const apiReferencePage = (doc: unknown) => <ApiReferencePage doc={ApiDocument.parse(doc)} />;

/** An element of a parsed XML document. */
export interface XmlElement {
  name: string;
  attrs: Record<string, string>;
  children: XmlElement[];
  /** The element's own character data, entities decoded, concatenated. */
  text: string;
}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

function decode(text: string, at: number): string {
  return text.replace(/&(#x[0-9a-fA-F]+|#\d+|\w+);|&/g, (whole, ent: string | undefined) => {
    if (ent === undefined) throw new Error(`bare '&' near offset ${at}`);
    if (ent.startsWith('#x')) return String.fromCodePoint(parseInt(ent.slice(2), 16));
    if (ent.startsWith('#')) return String.fromCodePoint(parseInt(ent.slice(1), 10));
    const v = ENTITIES[ent];
    if (v === undefined) throw new Error(`unknown entity ${whole} near offset ${at}`);
    return v;
  });
}

/**
 * A small, strict XML reader for the documents the agent deals with (plists, ADMX/ADML): it
 * checks well-formedness (one root, matched tags, quoted unique attributes, known entities) and
 * skips prologue, comments, doctype and processing instructions. No DTDs, no external entities:
 * nothing in a managed-config file can make the agent fetch or expand anything.
 */
export function parseXml(source: string): XmlElement {
  let i = 0;
  const stack: XmlElement[] = [];
  let root: XmlElement | undefined;
  const fail = (why: string): never => {
    throw new Error(`not well-formed XML at offset ${i}: ${why}`);
  };
  while (i < source.length) {
    const lt = source.indexOf('<', i);
    const text = source.slice(i, lt === -1 ? source.length : lt);
    const top = stack[stack.length - 1];
    if (text.trim() !== '') {
      if (!top) fail('text outside the root element');
      else top.text += decode(text, i);
    }
    if (lt === -1) break;
    i = lt;
    if (source.startsWith('<!--', i)) {
      const end = source.indexOf('-->', i + 4);
      if (end === -1) fail('unterminated comment');
      i = end + 3;
    } else if (source.startsWith('<![CDATA[', i)) {
      const end = source.indexOf(']]>', i);
      if (end === -1 || !top) fail('CDATA outside an element or unterminated');
      else top.text += source.slice(i + 9, end);
      i = end + 3;
    } else if (source.startsWith('<?', i)) {
      const end = source.indexOf('?>', i);
      if (end === -1) fail('unterminated processing instruction');
      i = end + 2;
    } else if (source.startsWith('<!DOCTYPE', i)) {
      if (source.slice(i, source.indexOf('>', i)).includes('[')) fail('internal DTD subsets are refused');
      i = source.indexOf('>', i) + 1;
    } else if (source.startsWith('</', i)) {
      const m = /^<\/([\w:.-]+)\s*>/.exec(source.slice(i));
      if (!m) fail('bad closing tag');
      const open = stack.pop();
      if (!open || open.name !== m?.[1]) fail(`closing </${m?.[1]}> does not match <${open?.name}>`);
      i += m?.[0].length ?? 0;
    } else {
      const m = /^<([\w:.-]+)((?:\s+[\w:.-]+\s*=\s*(?:"[^"<]*"|'[^'<]*'))*)\s*(\/?)>/.exec(source.slice(i));
      if (!m || m[1] === undefined) return fail('bad start tag');
      if (!top && root) fail('more than one root element');
      const attrs: Record<string, string> = {};
      for (const a of (m[2] ?? '').matchAll(/([\w:.-]+)\s*=\s*(?:"([^"]*)"|'([^']*)')/g)) {
        const key = a[1] ?? '';
        if (Object.hasOwn(attrs, key)) fail(`attribute ${key} repeated`);
        attrs[key] = decode(a[2] ?? a[3] ?? '', i);
      }
      const el: XmlElement = { name: m[1], attrs, children: [], text: '' };
      if (top) top.children.push(el);
      else root = el;
      if (m[3] !== '/') stack.push(el);
      i += m[0].length;
    }
  }
  if (stack.length > 0) fail(`<${stack[stack.length - 1]?.name}> is never closed`);
  if (!root) fail('no root element');
  return root as XmlElement;
}

/** Every descendant element with this name, document order. */
export function findAll(el: XmlElement, name: string): XmlElement[] {
  return el.children.flatMap((c) => (c.name === name ? [c, ...findAll(c, name)] : findAll(c, name)));
}

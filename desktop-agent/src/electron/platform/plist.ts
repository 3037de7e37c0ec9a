import { parseXml, type XmlElement } from './xml';

export type PlistValue = string | number | boolean | PlistValue[] | { [key: string]: PlistValue };

function value(el: XmlElement): PlistValue {
  switch (el.name) {
    case 'string':
    case 'data':
    case 'date':
      return el.text;
    case 'integer':
    case 'real': {
      const n = Number(el.text.trim());
      if (!Number.isFinite(n)) throw new Error(`plist <${el.name}> is not a number: ${el.text}`);
      return n;
    }
    case 'true':
      return true;
    case 'false':
      return false;
    case 'array':
      return el.children.map(value);
    case 'dict': {
      const out: { [key: string]: PlistValue } = {};
      for (let k = 0; k < el.children.length; k += 2) {
        const key = el.children[k];
        const val = el.children[k + 1];
        if (key?.name !== 'key' || !val) throw new Error('plist <dict> needs <key> then a value, in pairs');
        out[key.text] = value(val);
      }
      return out;
    }
    default:
      throw new Error(`unknown plist element <${el.name}>`);
  }
}

/** Reads an XML property list (a .mobileconfig, or `plutil -convert xml1` output of managed prefs). */
export function parsePlist(xml: string): PlistValue {
  const root = parseXml(xml);
  if (root.name !== 'plist' || root.children.length !== 1 || !root.children[0]) throw new Error('not a property list: expected <plist> with one value');
  return value(root.children[0]);
}

/**
 * A small, strict XML reader for the report tests: elements, attributes, text, the five
 * predefined entities and numeric references. Throws on anything malformed, which is the point.
 */
export interface XmlElement {
  name: string;
  attributes: Record<string, string>;
  children: XmlElement[];
  text: string;
}

function decode(text: string): string {
  return text.replace(
    /&(#x[0-9a-f]+|#\d+|amp|lt|gt|quot|apos);|&/gi,
    (_match, entity: string | undefined) => {
      if (entity === undefined) throw new Error(`bare & in ${JSON.stringify(text.slice(0, 60))}`);
      if (entity.startsWith('#x'))
        return String.fromCodePoint(Number.parseInt(entity.slice(2), 16));
      if (entity.startsWith('#')) return String.fromCodePoint(Number(entity.slice(1)));
      return { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" }[entity] ?? '';
    },
  );
}

/** Parses `xml` into its root element. */
export function parseXml(xml: string): XmlElement {
  let i = 0;
  const fail = (why: string): never => {
    throw new Error(`${why} at offset ${i}: ${JSON.stringify(xml.slice(i, i + 40))}`);
  };
  const skipProlog = () => {
    if (xml.startsWith('<?xml', i)) i = xml.indexOf('?>', i) + 2;
    while (/\s/.test(xml[i] ?? '')) i += 1;
  };
  const element = (): XmlElement => {
    if (xml[i] !== '<') fail('expected <');
    const open = /^<([A-Za-z_][\w.-]*)/.exec(xml.slice(i));
    if (!open?.[1]) return fail('bad tag name');
    const name = open[1];
    i += open[0].length;
    const attributes: Record<string, string> = {};
    for (;;) {
      const attr = /^\s+([A-Za-z_][\w.-]*)="([^"<]*)"/.exec(xml.slice(i));
      if (!attr?.[1]) break;
      if (attr[1] in attributes) fail(`duplicate attribute ${attr[1]}`);
      attributes[attr[1]] = decode(attr[2] ?? '');
      i += attr[0].length;
    }
    const end = /^\s*(\/?)>/.exec(xml.slice(i));
    if (!end) return fail(`unterminated <${name}>`);
    i += end[0].length;
    const node: XmlElement = { name, attributes, children: [], text: '' };
    if (end[1] === '/') return node;
    for (;;) {
      const lt = xml.indexOf('<', i);
      if (lt < 0) fail(`missing </${name}>`);
      node.text += decode(xml.slice(i, lt));
      i = lt;
      if (xml.startsWith(`</${name}>`, i)) {
        i += name.length + 3;
        return node;
      }
      if (xml.startsWith('</', i)) fail(`mismatched close inside <${name}>`);
      node.children.push(element());
    }
  };
  skipProlog();
  const root = element();
  if (xml.slice(i).trim() !== '') fail('content after the root element');
  return root;
}

/** Every descendant element named `name`. */
export function findAll(root: XmlElement, name: string): XmlElement[] {
  const found: XmlElement[] = [];
  const walk = (node: XmlElement) => {
    if (node.name === name) found.push(node);
    node.children.forEach(walk);
  };
  walk(root);
  return found;
}

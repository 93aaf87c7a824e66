/**
 * A small XML reader for `nvidia-smi -q -x` output, written here rather than adding a
 * dependency: that document uses only elements, double-quoted attributes (`<gpu id="...">`),
 * text, the five predefined entities, a DOCTYPE and the XML declaration. The inventory is read
 * once per node, so clarity beats speed. Anything beyond that subset (CDATA, comments, numeric
 * character references) is handled too, so a future driver does not break it.
 */
export interface XmlElement {
  name: string;
  attrs: Record<string, string>;
  children: XmlElement[];
  /** concatenated direct text, trimmed */
  text: string;
}

export class XmlParseError extends Error {}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

function decodeEntities(s: string): string {
  if (!s.includes('&')) return s;
  return s.replace(/&(#x[0-9a-fA-F]+|#\d+|[a-zA-Z]+);/g, (m, body: string) => {
    if (body.startsWith('#x')) return String.fromCodePoint(parseInt(body.slice(2), 16));
    if (body.startsWith('#')) return String.fromCodePoint(parseInt(body.slice(1), 10));
    return ENTITIES[body] ?? m;
  });
}

export function parseXml(text: string): XmlElement {
  const root: XmlElement = { name: '#document', attrs: {}, children: [], text: '' };
  const stack: XmlElement[] = [root];
  const texts: string[][] = [[]];
  let i = 0;
  const n = text.length;
  while (i < n) {
    const lt = text.indexOf('<', i);
    if (lt < 0) {
      texts[texts.length - 1].push(text.slice(i));
      break;
    }
    if (lt > i) texts[texts.length - 1].push(text.slice(i, lt));
    if (text.startsWith('<?', lt)) {
      i = skipPast(text, lt, '?>');
    } else if (text.startsWith('<!--', lt)) {
      i = skipPast(text, lt, '-->');
    } else if (text.startsWith('<![CDATA[', lt)) {
      const end = text.indexOf(']]>', lt);
      if (end < 0) throw new XmlParseError('unterminated CDATA');
      texts[texts.length - 1].push(text.slice(lt + 9, end).replace(/&/g, '&amp;').replace(/</g, '&lt;'));
      i = end + 3;
    } else if (text.startsWith('<!', lt)) {
      i = skipPast(text, lt, '>');
    } else if (text.startsWith('</', lt)) {
      const gt = text.indexOf('>', lt);
      if (gt < 0) throw new XmlParseError('unterminated end tag');
      const name = text.slice(lt + 2, gt).trim();
      const el = stack.pop();
      const own = texts.pop();
      if (!el || stack.length === 0 || !own || el.name !== name) {
        throw new XmlParseError(`unexpected </${name}>${el ? ` (open element is <${el.name}>)` : ''}`);
      }
      el.text = decodeEntities(own.join('').trim());
      i = gt + 1;
    } else {
      const gt = findTagEnd(text, lt);
      const selfClosing = text.charCodeAt(gt - 1) === 47; // '/'
      const inner = text.slice(lt + 1, selfClosing ? gt - 1 : gt);
      const m = /^([^\s/>]+)/.exec(inner);
      if (!m) throw new XmlParseError(`bad tag at offset ${lt}`);
      const el: XmlElement = { name: m[1], attrs: parseAttrs(inner.slice(m[1].length)), children: [], text: '' };
      stack[stack.length - 1].children.push(el);
      if (!selfClosing) {
        stack.push(el);
        texts.push([]);
      }
      i = gt + 1;
    }
  }
  if (stack.length !== 1) throw new XmlParseError(`unclosed <${stack[stack.length - 1].name}>`);
  const top = root.children[0];
  if (!top) throw new XmlParseError('no root element');
  return top;
}

function skipPast(text: string, from: number, marker: string): number {
  const end = text.indexOf(marker, from);
  if (end < 0) throw new XmlParseError(`unterminated ${text.slice(from, from + 4)}`);
  return end + marker.length;
}

/** End of a start tag, skipping '>' inside quoted attribute values. */
function findTagEnd(text: string, from: number): number {
  let quote = 0;
  for (let j = from + 1; j < text.length; j++) {
    const c = text.charCodeAt(j);
    if (quote) {
      if (c === quote) quote = 0;
    } else if (c === 34 || c === 39) {
      quote = c;
    } else if (c === 62) {
      return j;
    }
  }
  throw new XmlParseError('unterminated start tag');
}

function parseAttrs(s: string): Record<string, string> {
  const attrs: Record<string, string> = {};
  const re = /([^\s=/]+)\s*=\s*("([^"]*)"|'([^']*)')/g;
  for (let m = re.exec(s); m; m = re.exec(s)) attrs[m[1]] = decodeEntities(m[3] ?? m[4] ?? '');
  return attrs;
}

/** First child element with that name path ("gpu_power_readings/current_power_limit"). */
export function child(el: XmlElement | undefined, path: string): XmlElement | undefined {
  let cur = el;
  for (const part of path.split('/')) {
    if (!cur) return undefined;
    cur = cur.children.find((c) => c.name === part);
  }
  return cur;
}

export function childText(el: XmlElement | undefined, path: string): string | undefined {
  return child(el, path)?.text;
}

export function children(el: XmlElement | undefined, name: string): XmlElement[] {
  return el ? el.children.filter((c) => c.name === name) : [];
}

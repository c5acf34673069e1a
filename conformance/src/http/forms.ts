/**
 * Reads HTML forms out of login and consent pages, well enough to submit them as a browser would:
 * the form's action and method, its inputs (hidden CSRF fields included) and submit buttons.
 */
export interface FormField {
  name: string;
  value: string;
  type: string;
}

export interface HtmlForm {
  action: string;
  method: 'GET' | 'POST';
  fields: FormField[];
  /** Named submit buttons; the browser sends the clicked one's name=value. */
  buttons: Array<{ name?: string; value: string; label: string }>;
  /** The form's inner HTML, to tell a consent form from a deny form. */
  html: string;
}

function attribute(tag: string, name: string): string | undefined {
  const match = new RegExp(`\\s${name}\\s*=\\s*(?:"([^"]*)"|'([^']*)'|([^\\s>]+))`, 'i').exec(tag);
  if (!match) return undefined;
  return decodeEntities(match[1] ?? match[2] ?? match[3] ?? '');
}

/** Decodes the HTML entities that appear in attribute values. */
export function decodeEntities(text: string): string {
  return text
    .replace(/&#x([0-9a-f]+);/gi, (_, hex: string) =>
      String.fromCodePoint(Number.parseInt(hex, 16)),
    )
    .replace(/&#(\d+);/g, (_, dec: string) => String.fromCodePoint(Number(dec)))
    .replaceAll('&quot;', '"')
    .replaceAll('&#39;', "'")
    .replaceAll('&apos;', "'")
    .replaceAll('&lt;', '<')
    .replaceAll('&gt;', '>')
    .replaceAll('&amp;', '&');
}

/** Every form of an HTML page, in document order. */
export function parseForms(html: string): HtmlForm[] {
  const forms: HtmlForm[] = [];
  for (const match of html.matchAll(/<form\b([^>]*)>([\s\S]*?)<\/form>/gi)) {
    const open = match[1] ?? '';
    const inner = match[2] ?? '';
    const fields: FormField[] = [];
    const buttons: HtmlForm['buttons'] = [];
    for (const input of inner.matchAll(/<input\b[^>]*>/gi)) {
      const tag = input[0];
      const name = attribute(tag, 'name');
      const type = (attribute(tag, 'type') ?? 'text').toLowerCase();
      const value = attribute(tag, 'value') ?? '';
      if (type === 'submit') {
        buttons.push({ ...(name !== undefined ? { name } : {}), value, label: value });
        continue;
      }
      if (name === undefined) continue;
      if ((type === 'checkbox' || type === 'radio') && !/\schecked\b/i.test(tag)) continue;
      fields.push({ name, value, type });
    }
    for (const button of inner.matchAll(/<button\b([^>]*)>([\s\S]*?)<\/button>/gi)) {
      const tag = button[1] ?? '';
      const type = (attribute(` ${tag}`, 'type') ?? 'submit').toLowerCase();
      if (type !== 'submit') continue;
      const name = attribute(` ${tag}`, 'name');
      const label = (button[2] ?? '').replace(/<[^>]*>/g, '').trim();
      buttons.push({
        ...(name !== undefined ? { name } : {}),
        value: attribute(` ${tag}`, 'value') ?? '',
        label,
      });
    }
    for (const area of inner.matchAll(/<textarea\b([^>]*)>([\s\S]*?)<\/textarea>/gi)) {
      const name = attribute(` ${area[1] ?? ''}`, 'name');
      if (name !== undefined)
        fields.push({ name, value: decodeEntities(area[2] ?? ''), type: 'textarea' });
    }
    const method =
      (attribute(` ${open}`, 'method') ?? 'GET').toUpperCase() === 'POST' ? 'POST' : 'GET';
    forms.push({
      action: attribute(` ${open}`, 'action') ?? '',
      method,
      fields,
      buttons,
      html: inner,
    });
  }
  return forms;
}

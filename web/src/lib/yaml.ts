// YAML of a JSON value, as people write it: block mappings and sequences, plain scalars where
// they cannot be misread (else JSON-style double quotes, which YAML reads the same), and
// multi-line strings as literal blocks. The API parses what this writes (the wizard submits
// it), so anything ambiguous — `yes`, `0755`, `12`, `null`, leading indicators — is quoted.

const PLAIN = /^(?:[A-Za-z_/.]|-(?!--)(?=[A-Za-z_/.-]))[A-Za-z0-9_/.+=@%~-]*(?::[A-Za-z0-9_/.+=@%~-]+)*$/;
const RESERVED = /^(?:true|false|yes|no|on|off|y|n|null|~|[-+]?\.inf|\.nan)$/i;
// Characters a YAML stream may not carry as they are (or that YAML 1.1 reads as line breaks).
const UNPRINTABLE = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u0084\u0086-\u009f\u2028\u2029\ufeff]/;

function quoted(s: string): string {
  return JSON.stringify(s).replace(/[\u007f-\u009f\u2028\u2029\ufeff]/g, (c) => '\\u' + c.charCodeAt(0).toString(16).padStart(4, '0'));
}

export function scalar(s: string): string {
  return PLAIN.test(s) && !RESERVED.test(s) ? s : quoted(s);
}

/** A literal block (`|`, `|-`, `|+`, with an indentation indicator when the text starts with
 * spaces) for a multi-line string, or null when quoting is the safer way. */
function literal(s: string, indent: string): string[] | null {
  if (!s.includes('\n') || s.includes('\r') || UNPRINTABLE.test(s) || s.trim() === '') return null;
  let chomp = '';
  let body = s;
  if (!s.endsWith('\n')) chomp = '-';
  else if (s.endsWith('\n\n')) ((chomp = '+'), (body = s.slice(0, -1)));
  else body = s.slice(0, -1);
  const lines = body.split('\n');
  const first = lines.find((l) => l.trim() !== '') ?? '';
  const indicator = /^[ \t]/.test(first) || /^\s*\n/.test(body) ? '2' : '';
  const pad = indent + '  ';
  return [`|${indicator}${chomp}`, ...lines.map((l) => (l === '' ? '' : pad + l))];
}

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

function isEmptyContainer(v: Json): boolean {
  return (Array.isArray(v) && v.length === 0) || (v !== null && typeof v === 'object' && !Array.isArray(v) && Object.keys(v).length === 0);
}

function inline(v: Json): string | null {
  if (v === null) return 'null';
  if (typeof v === 'boolean' || typeof v === 'number') return String(v);
  if (typeof v === 'string') return scalar(v);
  if (Array.isArray(v) && v.length === 0) return '[]';
  if (isEmptyContainer(v)) return '{}';
  return null;
}

/** Lines of `key: value` (or `- value`) with the value at `indent`. */
function entry(head: string, v: Json, indent: string, out: string[]) {
  if (typeof v === 'string') {
    const block = literal(v, indent);
    if (block) {
      out.push(`${head} ${block[0]}`, ...block.slice(1));
      return;
    }
  }
  const one = inline(v);
  if (one !== null) {
    out.push(`${head} ${one}`);
    return;
  }
  out.push(head);
  emit(v, indent + '  ', out);
}

function emit(v: Json, indent: string, out: string[]) {
  if (Array.isArray(v)) {
    for (const item of v) {
      if (item !== null && typeof item === 'object' && !Array.isArray(item) && !isEmptyContainer(item)) {
        // `- key: value` with the mapping's other keys under the first.
        const lines: string[] = [];
        emit(item, indent + '  ', lines);
        out.push(indent + '- ' + lines[0].slice(indent.length + 2), ...lines.slice(1));
      } else entry(indent + '-', item, indent, out);
    }
  } else if (v !== null && typeof v === 'object') {
    for (const [k, val] of Object.entries(v)) entry(`${indent}${scalar(k)}:`, val, indent, out);
  } else out.push(indent + inline(v));
}

export function toYaml(v: unknown): string {
  const out: string[] = [];
  if (isEmptyContainer(v as Json)) return inline(v as Json) + '\n';
  emit(v as Json, '', out);
  return out.join('\n') + '\n';
}

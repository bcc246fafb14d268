// RFC 2047 encoded-words for mail header text that is not printable ASCII: the words
// from the first to the last that need it become UTF-8 "Q" encoded-words of at most 52
// characters each, split only between whole characters; the words around them stay as
// they are (the encoder the alert mails have always used writes the same).
const CHARSET = 'UTF-8';
/** Encoded text per word: 52 characters less `=?UTF-8?Q?` and `?=`. */
const MAX_ENCODED = 52 - (7 + CHARSET.length);
/** Bytes written as themselves in a Q word (RFC 2047 §5 rule 3); space is `_`. */
const Q_LITERAL = /^[A-Za-z0-9!*+\-/]$/;

const needsEncoding = (code: number): boolean => code === 0x22 || code >= 0x80;
const isSpace = (ch: string): boolean => /\s/.test(ch);

function qEncode(text: string): string {
  let out = '';
  for (const byte of Buffer.from(text, 'utf8')) {
    const ch = String.fromCharCode(byte);
    if (byte === 0x20) out += '_';
    else if (Q_LITERAL.test(ch)) out += ch;
    else out += `=${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/** Splits Q text into parts of at most `max` characters, never inside `=XX` or a UTF-8 sequence. */
function splitEncoded(text: string, max: number): string[] {
  const parts: string[] = [];
  let rest = text;
  while (rest.length > 0) {
    let part = rest.slice(0, max);
    const cut = /=[0-9A-F]?$/i.exec(part);
    if (cut) part = part.slice(0, cut.index);
    const widest = part.length > 0 ? part : rest.slice(0, max);
    // A continuation byte (0x80-0xBF) next: the character started in this part moves on.
    for (
      let m = /^=([0-9A-F]{2})/i.exec(rest.slice(part.length));
      part.length > 0 && m;
      m = /^=([0-9A-F]{2})/i.exec(rest.slice(part.length))
    ) {
      const byte = parseInt(m[1]!, 16);
      if (!(byte > 0x7f && byte < 0xc2)) break;
      part = part.slice(0, part.length - 3);
    }
    if (part.length === 0) part = widest;
    parts.push(part);
    rest = rest.slice(part.length);
  }
  return parts;
}

function encodedWords(text: string): string {
  const q = qEncode(text);
  const body = q.length > MAX_ENCODED ? splitEncoded(q, MAX_ENCODED).join(`?= =?${CHARSET}?Q?`) : q;
  return `=?${CHARSET}?Q?${body}?=`;
}

/**
 * `value` with the span from the word of its first character that needs encoding (a
 * quote or a non-ASCII character, or a word holding `=?`, which a receiver would try to
 * decode) to the word of its last one written as encoded-words.
 */
export function encodeHeaderWords(value: string): string {
  let first = -1;
  let last = -1;
  for (let i = 0; i < value.length; i++) {
    if (!needsEncoding(value.charCodeAt(i)) && !value.startsWith('=?', i)) continue;
    if (first < 0) first = i;
    last = value.startsWith('=?', i) ? i + 1 : i;
  }
  if (first < 0) return value;
  let start = first;
  while (start > 0 && !isSpace(value.charAt(start - 1))) start--;
  let end = last + 1;
  while (end < value.length && !isSpace(value.charAt(end))) end++;
  return value.slice(0, start) + encodedWords(value.slice(start, end)) + value.slice(end);
}

// IP address text: parsing dotted quads and IPv6 words, and printing IPv6 the way glibc's
// inet_ntop(3) does. The original prints addresses in that form (its resolver, ipvsadm's
// listings), and comparing the config's addresses with the kernel table's relies on one
// printer for both.

/** Decimal dotted quad with each part 0-255, or undefined. */
export function parseIPv4(text: string): number[] | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(text);
  if (!m) return undefined;
  const parts = m.slice(1).map(Number);
  return parts.every((n) => n <= 255) ? parts : undefined;
}

/** Eight 16-bit words, or undefined. Accepts `::`, and a trailing dotted quad. */
export function parseIPv6(text: string): number[] | undefined {
  if (!/^[0-9A-Fa-f:.]+$/.test(text)) return undefined;
  let head = text;
  let tailWords: number[] = [];
  const lastColon = text.lastIndexOf(':');
  if (text.includes('.')) {
    const v4 = parseIPv4(text.slice(lastColon + 1));
    if (!v4 || lastColon < 0) return undefined;
    tailWords = [(v4[0]! << 8) | v4[1]!, (v4[2]! << 8) | v4[3]!];
    head = text.slice(0, lastColon + 1);
    // "::1.2.3.4" leaves "::", "a::1.2.3.4" leaves "a::", "a:b:c:d:e:f:1.2.3.4" leaves "a:...:f:"
    if (head.endsWith(':') && !head.endsWith('::')) head = head.slice(0, -1);
  }
  const halves = head.split('::');
  if (halves.length > 2) return undefined;
  const toWords = (s: string): number[] | undefined => {
    if (s === '') return [];
    const out: number[] = [];
    for (const g of s.split(':')) {
      if (!/^[0-9A-Fa-f]{1,4}$/.test(g)) return undefined;
      out.push(parseInt(g, 16));
    }
    return out;
  };
  const left = toWords(halves[0]!);
  if (!left) return undefined;
  if (halves.length === 1) {
    const words = [...left, ...tailWords];
    return words.length === 8 ? words : undefined;
  }
  const right = toWords(halves[1]!);
  if (!right) return undefined;
  const known = left.length + right.length + tailWords.length;
  if (known > 7) return undefined;
  return [...left, ...new Array<number>(8 - known).fill(0), ...right, ...tailWords];
}

/** glibc inet_ntop(AF_INET6) text of eight words (no brackets). */
export function formatIPv6(words: readonly number[]): string {
  // Longest run of >= 2 zero words (the first one on a tie) becomes "::".
  let bestBase = -1,
    bestLen = 0,
    curBase = -1,
    curLen = 0;
  for (let i = 0; i < 8; i++) {
    if (words[i] === 0) {
      if (curBase < 0) {
        curBase = i;
        curLen = 1;
      } else curLen++;
      if (curLen > bestLen) {
        bestBase = curBase;
        bestLen = curLen;
      }
    } else curBase = -1;
  }
  if (bestLen < 2) bestBase = -1;
  let out = '';
  for (let i = 0; i < 8; i++) {
    if (bestBase >= 0 && i >= bestBase && i < bestBase + bestLen) {
      if (i === bestBase) out += ':';
      continue;
    }
    if (i > 0) out += ':';
    // IPv4-compatible (::a.b.c.d) and IPv4-mapped (::ffff:a.b.c.d) addresses end in a dotted quad.
    if (i === 6 && bestBase === 0 && (bestLen === 6 || (bestLen === 5 && words[5] === 0xffff))) {
      out += `${words[6]! >> 8}.${words[6]! & 255}.${words[7]! >> 8}.${words[7]! & 255}`;
      break;
    }
    out += words[i]!.toString(16);
  }
  if (bestBase >= 0 && bestBase + bestLen === 8) out += ':';
  return out;
}

/**
 * inet_ntop(3)'s form of an IPv6 address (no brackets; a zone suffix `%eth0` dropped), or
 * the text as given when it is not one.
 */
export function canonicalIPv6(address: string): string {
  const words = parseIPv6(address.replace(/%.*$/, ''));
  return words ? formatIPv6(words) : address;
}

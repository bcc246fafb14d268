// The text after `real=` / `real6=` and `fallback=`, read the way the original's
// unanchored regular expressions read it (spec §2.5), plus the two fixes of §10.
import type { Forward } from './model.js';
import { LENIENT, MSG } from './messages.js';
import { ownCopy } from '../v8-strings.js';

const HOST = String.raw`\d+\.\d+\.\d+\.\d+|[A-Za-z0-9.-]+|\[[0-9A-fa-f:]+\]`;
const REAL_ADDRESS = new RegExp(`(${HOST})(->(${HOST}))?(:(\\d+|[A-Za-z0-9_-]+))?\\s+(.*)`);

export interface RealAddressPart {
  readonly host: string;
  readonly rangeEnd?: string;
  /** Port text as written ('0' when omitted). */
  readonly port: string;
  readonly flags: string;
}

// The common `a.b.c.d[:port] flags` form; when it matches, REAL_ADDRESS would
// match the same way (its first alternative at the same position).
const PLAIN_REAL = /^\s*(\d+\.\d+\.\d+\.\d+)(?::(\d+))?\s+(.*)/;

export function splitRealAddress(value: string): RealAddressPart | { error: string } {
  // The host is kept in the model for the daemon's life: not as a view into the config
  // file's text (v8-strings.ts).
  const plain = PLAIN_REAL.exec(value);
  if (plain) return { host: ownCopy(plain[1]!), port: plain[2] ?? '0', flags: plain[3]! };
  const m = REAL_ADDRESS.exec(value);
  if (!m) return { error: MSG.realWrongFormat };
  return { host: ownCopy(m[1]!), rangeEnd: m[3], port: m[5] ?? '0', flags: m[6]! };
}

export interface RealFlags {
  readonly forward: Forward;
  readonly weight: number;
  readonly request?: string;
  readonly receive?: string;
  readonly lower: number;
  readonly upper: number;
}

const NO_WARNINGS: readonly string[] = Object.freeze([]);

export interface RealFlagsResult {
  readonly flags?: RealFlags;
  readonly error?: string;
  readonly warnings: readonly string[];
}

// The literal, not the matched text: a config of 10,000 reals would otherwise keep
// 10,000 copies of "masq" for as long as it runs.
const FORWARDS: Readonly<Record<string, Forward>> = { gate: 'gate', masq: 'masq', ipip: 'ipip' };
const forwardOf = (text: string): Forward => FORWARDS[text]!;

function withSlash(request: string): string {
  return request.startsWith('/') ? request : `/${request}`;
}

/** Exactly the original's add_real_server reading, errors included. */
function originalReading(flagsText: string): { flags?: RealFlags; error?: string; skipped: string[] } {
  const skipped: string[] = [];
  const method = /(\w+)(.*)/.exec(flagsText);
  if (!method || !['gate', 'masq', 'ipip'].includes(method[1]!)) return { error: MSG.forwardMethod, skipped };
  if (method.index > 0 && /\S/.test(flagsText.slice(0, method.index))) skipped.push(flagsText.slice(0, method.index).trim());
  let rest = method[2]!;
  let weight = 1;
  const w = /\s+(\d+)(.*)/.exec(rest);
  if (w) {
    if (/\S/.test(rest.slice(0, w.index))) skipped.push(rest.slice(0, w.index).trim());
    weight = Number(w[1]);
    rest = w[2]!;
  }
  let request: string | undefined;
  let receive: string | undefined;
  const rr = /\s+"(.*)"[, ]\s*"(.*)"(.*)/.exec(rest);
  if (rr) {
    if (/\S/.test(rest.slice(0, rr.index))) skipped.push(rest.slice(0, rr.index).trim());
    request = withSlash(rr[1]!);
    receive = rr[2]!;
    rest = rr[3]!;
  }
  let lower = 0;
  let upper = 0;
  const l = /\s+l:(\d+)(.*)/.exec(rest);
  if (l) {
    if (/\S/.test(rest.slice(0, l.index))) skipped.push(rest.slice(0, l.index).trim());
    lower = Number(l[1]);
    rest = l[2]!;
  }
  const u = /\s+u:(\d+)(.*)/.exec(rest);
  if (u) {
    if (/\S/.test(rest.slice(0, u.index))) skipped.push(rest.slice(0, u.index).trim());
    upper = Number(u[1]);
    rest = u[2]!;
  }
  if (/\S/.test(rest)) return { error: MSG.invalidRealLine(rest), skipped };
  const flags: RealFlags = { forward: forwardOf(method[1]!), weight, lower, upper };
  return { flags: request === undefined ? flags : { ...flags, request, receive }, skipped };
}

/**
 * Token reading in any order: the §10 fix for `u:` before `l:` and for a weight
 * after the quoted strings, both of which the original silently loses.
 */
function orderFreeReading(flagsText: string): RealFlags | undefined {
  const m = /^\s*(gate|masq|ipip)(?=\s|$)(.*)$/.exec(flagsText);
  if (!m) return undefined;
  let rest = m[2]!;
  let weight: number | undefined;
  let request: string | undefined;
  let receive: string | undefined;
  let lower: number | undefined;
  let upper: number | undefined;
  for (;;) {
    rest = rest.replace(/^\s+/, '');
    if (rest === '') break;
    let t: RegExpExecArray | null;
    if ((t = /^(\d+)(?=\s|$)/.exec(rest)) && weight === undefined) weight = Number(t[1]);
    else if ((t = /^"([^"]*)"[, ]\s*"([^"]*)"(?=\s|$)/.exec(rest)) && request === undefined) {
      request = withSlash(t[1]!);
      receive = t[2]!;
    } else if ((t = /^l:(\d+)(?=\s|$)/.exec(rest)) && lower === undefined) lower = Number(t[1]);
    else if ((t = /^u:(\d+)(?=\s|$)/.exec(rest)) && upper === undefined) upper = Number(t[1]);
    else return undefined;
    rest = rest.slice(t[0].length);
  }
  const flags: RealFlags = { forward: forwardOf(m[1]!), weight: weight ?? 1, lower: lower ?? 0, upper: upper ?? 0 };
  return request === undefined ? flags : { ...flags, request, receive };
}

function sameFlags(a: RealFlags, b: RealFlags): boolean {
  return (
    a.forward === b.forward &&
    a.weight === b.weight &&
    a.lower === b.lower &&
    a.upper === b.upper &&
    a.request === b.request &&
    a.receive === b.receive
  );
}

// `masq`, `gate 5`: what most real lines carry; both readings agree on these.
const PLAIN_FLAGS = /^\s*(gate|masq|ipip)(?:\s+(\d+))?\s*$/;

export function parseRealFlags(flagsText: string): RealFlagsResult {
  const plain = PLAIN_FLAGS.exec(flagsText);
  if (plain) {
    return {
      flags: { forward: forwardOf(plain[1]!), weight: plain[2] === undefined ? 1 : Number(plain[2]), lower: 0, upper: 0 },
      warnings: NO_WARNINGS,
    };
  }
  const original = originalReading(flagsText);
  if (original.error !== undefined) return { error: original.error, warnings: [] };
  // Only skipped text, quotes or a u: can make the two readings differ.
  if (original.skipped.length === 0 && !flagsText.includes('"') && !flagsText.includes('u:'))
    return { flags: original.flags!, warnings: [] };
  const ours = orderFreeReading(flagsText);
  if (ours && !sameFlags(ours, original.flags!)) {
    const warnings: string[] = [];
    if (ours.upper !== original.flags!.upper) warnings.push(LENIENT.upperBeforeLower);
    if (ours.request !== original.flags!.request) warnings.push(LENIENT.weightAfterStrings);
    if (warnings.length === 0) warnings.push(LENIENT.ignoredRealText(flagsText.trim()));
    return { flags: ours, warnings };
  }
  const warnings = original.skipped.map((t) => LENIENT.ignoredRealText(t));
  return { flags: original.flags!, warnings };
}

export interface FallbackPart {
  readonly host: string;
  /** Port text, undefined when omitted. */
  readonly port?: string;
  readonly forward: Forward;
}

/** parse_fallback: `host[:port] [gate|masq|ipip]`, default gate. */
export function parseFallbackValue(value: string): FallbackPart | { error: string } {
  let text = value;
  let fwd: string | undefined;
  const m = /(\S+)(\s+(\S+))?\s*$/.exec(text);
  if (m) {
    fwd = m[3];
    text = m[1]!;
  }
  const p = /(:(\d+|[A-Za-z0-9_-]+))?$/.exec(text)!;
  const port = p[2];
  const host = text.slice(0, p.index);
  // Perl truthiness: an empty or "0" method means the default.
  const given = fwd !== undefined && fwd !== '' && fwd !== '0';
  if (given && !['gate', 'masq', 'ipip'].includes(fwd!)) return { error: MSG.forwardMethod };
  return { host, port, forward: given ? forwardOf(fwd!) : 'gate' };
}

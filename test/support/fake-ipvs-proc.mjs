// The fake ipvsadm's table as the kernel shows it in /proc/net/ip_vs (ip_vs_info_seq_show
// in net/netfilter/ipvs/ip_vs_ctl.c; fixtures/ipvs-proc/ holds a recording from a real
// kernel): written to FAKE_IPVSADM_PROC after each run that changed the table, for the
// daemon's drift check to read (LDIRECTORD_TEST_IPVS_PROC) on machines without IPVS.
// Connection counters are always 0; services and destinations come in the fake's order.
import { existsSync, renameSync, writeFileSync } from 'node:fs';

const hex = (n, width) => (n >>> 0).toString(16).toUpperCase().padStart(width, '0');
const pad = (s, n) => (s.length >= n ? s : s + ' '.repeat(n - s.length));
const FWD = { masq: 'Masq', local: 'Local', tunnel: 'Tunnel', route: 'Route' };
const HZ = 100;

function v4Hex(text) {
  return text
    .split('.')
    .map((p) => Number(p).toString(16).toUpperCase().padStart(2, '0'))
    .join('');
}

/** `2001:db8::1` (or with a dotted tail) written out in full, as %pI6 prints it. */
function v6Full(text) {
  let words;
  let s = text;
  const tail = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(s);
  let tailWords = [];
  if (tail) {
    const b = tail.slice(1).map(Number);
    tailWords = [(b[0] << 8) | b[1], (b[2] << 8) | b[3]];
    s = s.slice(0, tail.index);
    if (s.endsWith(':') && !s.endsWith('::')) s = s.slice(0, -1);
  }
  const part = (x) => (x === '' ? [] : x.split(':').map((g) => parseInt(g, 16)));
  const halves = s.split('::');
  if (halves.length === 2) {
    const l = part(halves[0]);
    const r = part(halves[1]);
    words = [...l, ...new Array(8 - l.length - r.length - tailWords.length).fill(0), ...r, ...tailWords];
  } else words = [...part(s), ...tailWords];
  return words.map((w) => w.toString(16).padStart(4, '0')).join(':');
}

const addrHex = (af, text, port) => (af === 6 ? `[${v6Full(text)}]:${hex(port, 4)}` : `${v4Hex(text)}:${hex(port, 4)}`);

export function renderIpvsProc(table) {
  let out =
    'IP Virtual Server version 1.2.1 (size=4096)\nProt LocalAddress:Port Scheduler Flags\n  -> RemoteAddress:Port Forward Weight ActiveConn InActConn\n';
  for (const s of table.services ?? []) {
    const ops = s.ops ? 'ops ' : '';
    if (s.fwmark) out += `FWM  ${hex(s.fwmark, 8)} ${s.sched} ${ops}`;
    else if (s.af === 6) out += `${s.protocol.toUpperCase()}  ${addrHex(6, s.addr, s.port)} ${s.sched} `;
    else out += `${s.protocol.toUpperCase()}  ${addrHex(4, s.addr, s.port)} ${s.sched} ${ops} `;
    if (s.persistent) {
      const mask = s.af === 6 ? hex(Number(s.netmask) * 2 ** 24, 8) : v4Hex(s.netmask);
      out += `persistent ${s.timeout * HZ} ${mask}\n`;
    } else out += '\n';
    // the kernel adds each destination at the head of its list
    for (const d of [...(s.dests ?? [])].reverse()) {
      out += `  -> ${addrHex(d.af, d.addr, d.port)}      ${pad(FWD[d.fwd], 7)} ${pad(String(d.weight), 6)} ${pad('0', 10)} ${pad('0', 10)}\n`;
    }
  }
  return out;
}

/** Writes the rendering to `file` when the table changed or the file is missing (atomically). */
export function writeIpvsProc(file, table, changed) {
  if (!changed && existsSync(file)) return;
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, renderIpvsProc(table));
  renameSync(tmp, file);
}

import { mkdtempSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MonitorFiles, escapeMonitorMessage, formatMonitorLine, monitorRealId, monitorWriteError } from '../../lib/daemon/monitorfile.js';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'ldts-mon-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const NOV24 = new Date(2026, 10, 24, 19, 20, 27);
const NOV5 = new Date(2026, 10, 5, 8, 0, 0);
// The original's real id for the spec's example (request/receive quotemeta'd).
const REAL_ID = 'negotiate:http:tcp:127.0.0.2:8080:www.example.com::1:masq:\\/index\\.html:OK';

describe('monitorfile line', () => {
  it('is the spec example byte for byte', () => {
    expect(formatMonitorLine({ date: NOV24, pid: 10283, realId: REAL_ID, state: 'down', message: 'bad\n' })).toBe(
      '[Tue Nov 24 19:20:27 2026] [10283] negotiate http tcp 127.0.0.2 8080 www.example.com 1 masq /index.html OK [down] bad%0a\n',
    );
  });

  it('squeezes runs of colons only, keeps other spaces, drops backslashes', () => {
    expect(monitorRealId('connect:tcp:[2001\\:db8\\:\\:1]:80:::1:gate:\\/:')).toBe('connect tcp [2001 db8  1] 80 1 gate / ');
    expect(monitorRealId('a: b::c\\\\d')).toBe('a  b cd');
  });

  it('escapes %, |, CR and LF as lower-case %xx, nothing else', () => {
    expect(escapeMonitorMessage('100% a|b\r\nc\td é')).toBe('100%25 a%7cb%0d%0ac\td é');
  });

  it('writes - without a message, pads the day', () => {
    expect(formatMonitorLine({ date: NOV5, pid: 1, realId: 'on:tcp:1.2.3.4:80::::1:gate::', state: 'up' })).toBe(
      '[Thu Nov  5 08:00:00 2026] [1] on tcp 1.2.3.4 80 1 gate  [up] -\n',
    );
    expect(formatMonitorLine({ date: NOV5, pid: 1, realId: 'x', state: 'up', message: '' })).toBe(
      '[Thu Nov  5 08:00:00 2026] [1] x [up] \n',
    );
  });

  it('the original die message', () => {
    const err = Object.assign(new Error('x'), { code: 'EACCES' });
    expect(monitorWriteError('/var/log/mon', err)).toBe("Error writing to monitorfile '/var/log/mon': Permission denied");
  });
});

describe('MonitorFiles', () => {
  it('appends lines per path and survives rotation', async () => {
    const a = join(dir, 'a.mon');
    const b = join(dir, 'b.mon');
    const errors: string[] = [];
    const m = new MonitorFiles({ pid: 77, now: () => NOV24, onError: (p, e) => errors.push(monitorWriteError(p, e)) });
    m.write(a, REAL_ID, 'up', 'OK');
    m.write(b, 'connect:tcp:10.0.0.2:80::::1:gate::', 'down', 'Connection refused|x');
    await m.flush();
    renameSync(a, `${a}.1`);
    m.write(a, REAL_ID, 'down', undefined);
    await m.flush();
    expect(readFileSync(`${a}.1`, 'utf8')).toBe(
      '[Tue Nov 24 19:20:27 2026] [77] negotiate http tcp 127.0.0.2 8080 www.example.com 1 masq /index.html OK [up] OK\n',
    );
    expect(readFileSync(a, 'utf8')).toBe(
      '[Tue Nov 24 19:20:27 2026] [77] negotiate http tcp 127.0.0.2 8080 www.example.com 1 masq /index.html OK [down] -\n',
    );
    expect(readFileSync(b, 'utf8')).toBe('[Tue Nov 24 19:20:27 2026] [77] connect tcp 10.0.0.2 80 1 gate  [down] Connection refused%7cx\n');
    expect(errors).toEqual([]);
    await m.close();
  });

  it('reports a failed write with the lost text', async () => {
    const bad = join(dir, 'no-such-dir', 'x.mon');
    const seen: [string, string, string][] = [];
    const m = new MonitorFiles({ pid: 1, now: () => NOV24, onError: (p, e, text) => seen.push([p, monitorWriteError(p, e), text]) });
    m.write(bad, 'x', 'up', 'y');
    await m.flush();
    expect(seen).toEqual([
      [bad, `Error writing to monitorfile '${bad}': No such file or directory`, '[Tue Nov 24 19:20:27 2026] [1] x [up] y\n'],
    ]);
    await m.close();
  });
});

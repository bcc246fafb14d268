// Where ldirectord-ts reads a config differently from the original on purpose: the
// leniencies of §10 (lines the original rejects) and the directives only ldirectord-ts has.
import { describe, expect, it } from 'vitest';
import { block, errors, parse, warnings } from './parse-helpers.js';

describe('leniencies of §10 (the original rejects these)', () => {
  it('continues a block across a blank line, with a warning at the blank line', async () => {
    const r = await parse('virtual=10.0.0.1:80\n\n    real=127.0.0.2:80 gate\n    service=http\n');
    expect(errors(r)).toEqual([]);
    expect(r.config!.virtuals[0]!.reals).toHaveLength(1);
    expect(warnings(r)[0]).toMatch(/^2: blank line inside a virtual block/);
  });

  it('ends a block at a blank line followed by a global, silently', async () => {
    const r = await parse('virtual=10.0.0.1:80\n    real=127.0.0.2:80 gate\n\nchecktimeout=4\n');
    expect(r.diagnostics).toEqual([]);
  });

  it('accepts 1-3 space indentation with one warning per block', async () => {
    const r = await parse('virtual=10.0.0.1:80\n real=127.0.0.2:80 gate\n  service=http\n');
    expect(errors(r)).toEqual([]);
    expect(warnings(r)).toHaveLength(1);
    expect(warnings(r)[0]).toMatch(/^2: virtual block line indented by 1 space \(and 1 more such line in this block\)/);
  });

  it('accepts CRLF files with one warning', async () => {
    const r = await parse('quiescent=yes\r\nvirtual=10.0.0.1:80\r\n    real=127.0.0.2:80 gate\r\n    servicename=Web\r\n');
    expect(errors(r)).toEqual([]);
    expect(r.config!.virtuals[0]!.servicename).toBe('Web');
    expect(warnings(r)).toEqual([expect.stringMatching(/^1: CRLF line endings \(4 lines\)/)]);
  });

  it('ignores trailing spaces only where the original would reject the line', async () => {
    const r = await parse('quiescent=yes  \nvirtual=10.0.0.1:80\n    real=127.0.0.2:80 gate\n    servicename=Web \n    ops=no \n');
    expect(errors(r)).toEqual([]);
    expect(r.config!.globals.quiescent).toBe(true);
    // The original accepts and keeps this trailing space: so do we.
    expect(r.config!.virtuals[0]!.servicename).toBe('Web ');
    expect(warnings(r).map((w) => w.split(':')[0])).toEqual(['1', '5']);
  });

  it("keeps a '#' inside a quoted value whole when the original would reject the line", async () => {
    const r = await parse('virtual=10.0.0.1:80\n    real=127.0.0.2:80 gate\n    request="/a#b"\n    servicename=Web #1\n');
    expect(errors(r)).toEqual([]);
    expect(r.config!.virtuals[0]!.request).toBe('/a#b');
    // Accepted by the original with the comment cut: same meaning here.
    expect(r.config!.virtuals[0]!.servicename).toBe('Web ');
    expect(warnings(r)).toEqual([expect.stringMatching(/^3: '#' inside a quoted value/)]);
  });
});

describe('ldirectord-ts extensions: successcount, slowstart, statusaddress', () => {
  it('are off when not written: successcount 1, slowstart 0, no status listener', async () => {
    const r = await parse('virtual=10.0.0.1:80\n    real=127.0.0.2:80 gate\n');
    expect(errors(r)).toEqual([]);
    const g = r.config!.globals;
    expect([g.successcount, g.slowstart, g.statusaddress]).toEqual([1, 0, undefined]);
    const v = r.config!.virtuals[0]!;
    expect([v.successcount, v.slowstart]).toEqual([1, 0]);
  });

  it('take a global default that a virtual overrides (as failurecount does), whatever the order', async () => {
    const r = await parse(
      [
        'virtual=10.0.0.1:80',
        block(['real=127.0.0.2:80 gate', 'successcount=5', 'slowstart=0']),
        'virtual=10.0.0.2:80',
        block(['real=127.0.0.3:80 gate']),
        'successcount=3',
        'slowstart=30',
        '',
      ].join('\n'),
    );
    expect(errors(r)).toEqual([]);
    expect(r.config!.virtuals.map((v) => [v.successcount, v.slowstart])).toEqual([
      [5, 0],
      [3, 30],
    ]);
  });

  it('reject anything but a plain number, with the line', async () => {
    const r = await parse(
      [
        'successcount=0',
        'slowstart=ten',
        'virtual=10.0.0.1:80',
        block(['real=127.0.0.2:80 gate', 'successcount=2x', 'slowstart=86401', 'slowstart=-1']),
        '',
      ].join('\n'),
    );
    expect(errors(r)).toEqual([
      '1: invalid success count: a whole number from 1 up is required',
      '2: invalid slow start time: a whole number of seconds from 0 (off) to 86400 is required',
      '5: invalid success count: a whole number from 1 up is required',
      '6: invalid slow start time: a whole number of seconds from 0 (off) to 86400 is required',
      '7: invalid slow start time: a whole number of seconds from 0 (off) to 86400 is required',
    ]);
  });

  it('statusaddress: port alone binds loopback; IPv4 and bracketed IPv6 literals', async () => {
    const read = async (v: string) => (await parse(`statusaddress=${v}\n`)).config?.globals.statusaddress;
    expect(await read('9101')).toEqual({ host: '127.0.0.1', port: 9101, family: 4 });
    expect(await read('0.0.0.0:9101')).toEqual({ host: '0.0.0.0', port: 9101, family: 4 });
    expect(await read('[::1]:9101')).toEqual({ host: '::1', port: 9101, family: 6 });
    // trailing whitespace is forgiven with a warning, as for every directive
    const t = await parse('statusaddress=127.0.0.1:9101 \n');
    expect(t.config?.globals.statusaddress?.port).toBe(9101);
    expect(warnings(t)).toHaveLength(1);
  });

  it('statusaddress: names, bad ports, missing brackets and block use are errors with the line', async () => {
    const bad = ['localhost:9101', '127.0.0.1:0', '127.0.0.1:65536', '::1:9101', '[::1]', '300.1.1.1:80', ''];
    const r = await parse(bad.map((b) => `statusaddress=${b}`).join('\n') + '\n');
    expect(errors(r)).toEqual(
      bad.map(
        (b, i) =>
          `${i + 1}: invalid status address "${b}": write PORT, ADDRESS:PORT or [IPV6-ADDRESS]:PORT with a numeric address and a port from 1 to 65535`,
      ),
    );
    const inBlock = await parse('virtual=10.0.0.1:80\n    real=127.0.0.2:80 gate\n    statusaddress=9101\n');
    expect(errors(inBlock)).toEqual(['3: Unknown command "    statusaddress=9101"']);
  });
});

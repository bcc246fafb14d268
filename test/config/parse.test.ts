import { describe, expect, it } from 'vitest';
import { block, errors, parse, warnings } from './parse-helpers.js';

describe('globals', () => {
  it('has the original defaults (quiescent=no, cleanstop=yes, interval 10)', async () => {
    const r = await parse('virtual=10.0.0.1:80\n    real=127.0.0.2:80 gate\n');
    expect(errors(r)).toEqual([]);
    const g = r.config!.globals;
    expect(g.quiescent).toBe(false);
    expect(g.cleanstop).toBe(true);
    expect(g.checkinterval).toBe(10);
    expect(g.logfile).toBe('/var/log/ldirectord.log');
    expect([...g.email.emailalertstatus].sort()).toEqual(['reloading', 'running', 'starting', 'stopping']);
  });

  it('takes the first digit run of numeric values and rejects zero', async () => {
    const r = await parse('checkinterval=abc 7 xyz\nchecktimeout=5 # comment\n');
    expect(errors(r)).toEqual([]);
    expect(r.config!.globals.checkinterval).toBe(7);
    expect(r.config!.globals.checktimeout).toBe(5);
    const bad = await parse('checktimeout=0\nnegotiatetimeout=x\n');
    expect(errors(bad)).toEqual(['1: invalid check timeout value', '2: invalid negotiate timeout value']);
  });

  it('reports every error, each with its line, not only the first', async () => {
    const r = await parse('quiescent=maybe\nautoreload=perhaps\nfoo=bar\ntimeout=3\nconnecttimeout=3\n');
    expect(errors(r)).toEqual([
      "1: quiescent must be 'yes' or 'no'",
      "2: autoreload must be 'yes' or 'no'",
      '3: Unknown command foo=bar',
      '4: timeout directive deprecated in favour of checktimeout and negotiatetimeout',
      '5: connecttimeout directive deprecated in favour of negotiatetimeout',
    ]);
    expect(r.config).toBeUndefined();
  });

  it('rejects indented and virtual-only directives at top level', async () => {
    const r = await parse(' checkinterval=5\nchecktype=connect\n');
    expect(errors(r)).toEqual(['1: Unknown command  checkinterval=5', '2: Unknown command checktype=connect']);
  });

  it('requires quotes for logfile and callback', async () => {
    const r = await parse('logfile=local0\ncallback=/bin/true\n');
    expect(errors(r)).toEqual(['1: Unknown command logfile=local0', '2: Unknown command callback=/bin/true']);
    const ok = await parse('logfile="local0"\ncallback=""\n');
    expect(errors(ok)).toEqual([]);
    expect(ok.config!.globals.logfile).toBe('local0');
    expect(ok.config!.globals.callback).toBe('');
  });

  it('test-opens an absolute logfile, except in debug mode', async () => {
    const text = 'logfile="/nonexistent/dir/ld.log"\n';
    const failing = (p: string) => (p.startsWith('/nonexistent') ? 'No such file or directory' : null);
    expect(errors(await parse(text, { openForAppend: failing }))).toEqual(['1: unable to open logfile: /nonexistent/dir/ld.log']);
    expect(errors(await parse(text, { openForAppend: failing, debug: true }))).toEqual([]);
  });

  it('warns about a relative logfile (seed tutorial) instead of losing logs silently', async () => {
    const r = await parse('logfile="var/log/ldirectord.log"\n');
    expect(errors(r)).toEqual([]);
    expect(warnings(r)[0]).toMatch(/^1: logfile "var\/log\/ldirectord.log" is neither an absolute path nor a syslog facility/);
  });

  it('handles supervised forms', async () => {
    expect((await parse('supervised=yes\n')).config!.globals.supervised).toBe(true);
    const bare = await parse('supervised\n');
    expect(bare.config!.globals.supervised).toBe(true);
    expect(warnings(bare)).toEqual(['1: please update your config not to use a bare supervised directive']);
    expect(errors(await parse('supervisedx\n'))).toEqual(["1: supervised must be 'yes' or 'no'"]);
  });

  it('parses emailalert lists, frequency, status and smtp', async () => {
    const r = await parse(
      'emailalert="a@x.org, b@y.org"\nemailalertfreq=60\nemailalertstatus=starting, running\nsmtp=mail.example:2525\nemailalertfrom="LD" <ld@x.org>\n',
    );
    expect(errors(r)).toEqual([]);
    const g = r.config!.globals;
    expect(g.email.emailalert).toEqual(['a@x.org', 'b@y.org']);
    expect(g.email.emailalertfreq).toBe(60);
    expect([...g.email.emailalertstatus].sort()).toEqual(['running', 'starting']);
    expect(g.email.smtp).toBe('mail.example');
    expect(g.emailalertfrom).toBe('"LD" <ld@x.org>');
    const bad = await parse('emailalertstatus=none,running\nemailalertstatus=sometimes\nemailalert=""\nemailalertfreq=x\n');
    expect(errors(bad)).toEqual([
      '1: invalid email alert status: "running" specified with "none"',
      '2: invalid email alert status at: "sometimes"',
      '3: no email address specified',
      '4: invalid email alert frequency',
    ]);
  });

  it('lets the last occurrence win, also after virtual blocks', async () => {
    const r = await parse(`checktimeout=3\nvirtual=10.0.0.1:80\n${block(['real=127.0.0.2:80 gate'])}\nchecktimeout=7\n`);
    expect(r.config!.virtuals[0]!.checktimeout).toBe(7);
  });
});

describe('virtual forms', () => {
  it('reads address, service-name port, hostname and fwmark forms', async () => {
    const r = await parse(
      [
        'virtual=10.0.0.1:http',
        block(['real=127.0.0.2 gate']),
        'virtual=localhost:8080',
        block(['real=127.0.0.2 gate']),
        'virtual=17',
        block(['real=127.0.0.2 gate']),
        'virtual6=[2001:DB8:0:0::1]:443',
        block(['real6=[::1]:443 masq']),
        'virtual6=5',
        block(['real6=[::1] gate']),
      ].join('\n'),
    );
    expect(errors(r)).toEqual([]);
    const ids = r.config!.virtuals.map((v) => v.id);
    expect(ids).toEqual(['tcp:10.0.0.1:80', 'tcp:127.0.0.1:8080', 'fwm:17', 'tcp:[2001:db8::1]:443', 'fwm6:5']);
    const [http, , fwm, v6] = r.config!.virtuals;
    expect(http!.service).toBe('http');
    expect(fwm!.service).toBe('none');
    expect(fwm!.protocol).toBe('fwm');
    expect(v6!.service).toBe('https');
    expect(v6!.reals[0]!.ip).toBe('[::1]');
  });

  it('keeps the no-port quirk (fwmark from the first digits) with a warning', async () => {
    const r = await parse(`virtual=10.0.0.1\n${block(['real=127.0.0.2 gate'])}\n`);
    expect(errors(r)).toEqual([]);
    expect(r.config!.virtuals[0]!.id).toBe('fwm:10');
    expect(warnings(r)[0]).toMatch(/^1: virtual=10.0.0.1 has no port and is taken as fwmark 10/);
  });

  it('makes :53 and :domain udp', async () => {
    const r = await parse(
      `virtual=10.0.0.1:53\n${block(['real=127.0.0.2 gate'])}\nvirtual=10.0.0.2:domain\n${block(['real=127.0.0.2 gate'])}\n`,
    );
    expect(r.config!.virtuals.map((v) => [v.protocol, v.service])).toEqual([
      ['udp', 'dns'],
      ['udp', 'dns'],
    ]);
  });

  it('reports the virtual= errors of the original', async () => {
    const r = await parse(
      ['virtual=[::1]:80', 'virtual6=[1::2::3]:80', 'virtual=***', 'virtual=10.0.0.1:99999', 'virtual=bad_host:80'].join('\n'),
    );
    expect(errors(r)).toEqual([
      '1: cannot specify an IPv6 address here. please use "virtual6" instead.',
      '2: invalid ipv6 address for virtual server',
      '3: invalid address for virtual server',
      '4: invalid address for virtual service',
      '5: invalid address for virtual service',
    ]);
  });

  it('reports a duplicate virtual at the line that ended its block', async () => {
    const r = await parse(
      [
        'virtual=10.0.0.1:80',
        block(['real=127.0.0.2 gate']),
        'virtual=10.0.0.1:http',
        block(['real=127.0.0.3 gate']),
        'checkinterval=4',
      ].join('\n'),
    );
    expect(errors(r)).toEqual(['5: duplicate virtual server']);
  });
});

describe('virtual block directives', () => {
  it('derives both timeouts from each other as the original does', async () => {
    const r = await parse(
      [
        'negotiatetimeout=10',
        'virtual=10.0.0.1:80',
        block(['real=127.0.0.2 gate', 'checktimeout=3']),
        'virtual=10.0.0.2:80',
        block(['real=127.0.0.2 gate']),
      ].join('\n'),
    );
    const [a, b] = r.config!.virtuals;
    expect([a!.checktimeout, a!.negotiatetimeout]).toEqual([3, 3]);
    expect([b!.checktimeout, b!.negotiatetimeout]).toEqual([10, 10]);
    const d = await parse(`virtual=10.0.0.1:80\n${block(['real=127.0.0.2 gate'])}\n`);
    expect([d.config!.virtuals[0]!.checktimeout, d.config!.virtuals[0]!.negotiatetimeout]).toEqual([5, 30]);
  });

  it('reads checktype values, including any value with a digit as combined', async () => {
    const types = ['connect', 'checktimeout3', '0', 'connect2', 'external-perl', 'on'];
    const text = types.map((t, i) => `virtual=10.0.0.${i + 1}:80\n${block(['real=127.0.0.2 gate', `checktype=${t}`])}`).join('\n');
    const r = await parse(text);
    expect(errors(r)).toEqual([]);
    expect(r.config!.virtuals.map((v) => v.checktype)).toEqual([
      { kind: 'connect' },
      { kind: 'combined', n: 3 },
      { kind: 'combined', n: 0 },
      { kind: 'combined', n: 2 },
      { kind: 'external-perl' },
      { kind: 'on' },
    ]);
    expect(errors(await parse(`virtual=10.0.0.1:80\n${block(['checktype=smart'])}\n`))).toEqual([
      '2: checktype must be "connect", "negotiate", "on", "off", "ping", "external", "external-perl" or a positive number',
    ]);
  });

  it('applies service=ftp and service=sip login defaults only when written', async () => {
    const r = await parse(
      `virtual=10.0.0.1:21\n${block(['real=127.0.0.2 gate'])}\nvirtual=10.0.0.2:21\n${block(['real=127.0.0.2 gate', 'service=ftp'])}\nvirtual=10.0.0.3:5060\n${block(['real=127.0.0.2 gate', 'service=sip'])}\n`,
    );
    const [derived, ftp, sip] = r.config!.virtuals;
    expect([derived!.service, derived!.login, derived!.passwd]).toEqual(['ftp', '', '']);
    expect([ftp!.login, ftp!.passwd]).toEqual(['anonymous', 'ldirectord@director1']);
    expect(sip!.login).toBe('ldirectord@director1');
  });

  it('takes the first lower-case run as scheduler, and rejects none', async () => {
    const r = await parse(`virtual=10.0.0.1:80\n${block(['scheduler=Wrr', 'real=127.0.0.2 gate'])}\n`);
    expect(r.config!.virtuals[0]!.scheduler).toBe('rr');
    expect(errors(await parse(`virtual=10.0.0.1:80\n${block(['scheduler=WRR'])}\n`))).toEqual([
      '2: invalid scheduler, should be only lowercase letters (a-z)',
    ]);
  });

  it('adds a leading slash to request and keeps receive', async () => {
    const r = await parse(`virtual=10.0.0.1:80\n${block(['real=127.0.0.2 gate', 'request="index.html"', 'receive="Hello (World)"'])}\n`);
    const v = r.config!.virtuals[0]!;
    expect([v.request, v.receive]).toEqual(['/index.html', 'Hello (World)']);
  });

  it('rejects a receive regex that cannot be used, at its line', async () => {
    const r = await parse(`virtual=10.0.0.1:80\n${block(['real=127.0.0.2 gate', 'receive="(unclosed"'])}\n`, {
      validateReceive: (s) => (s.includes('(unclosed') ? 'unterminated group' : null),
    });
    expect(errors(r)).toEqual(['3: invalid receive string: unterminated group']);
  });

  it('checks netmask per family, ops, protocol and checkport', async () => {
    const r = await parse(
      [
        'virtual=10.0.0.1:53',
        block(['netmask=24', 'ops=maybe', 'protocol=sctp', 'checkport=0', 'checkport=x']),
        'virtual6=[::1]:80',
        block(['netmask=255.255.255.0']),
        'virtual=5',
        block(['protocol=tcp']),
      ].join('\n'),
    );
    expect(errors(r)).toEqual([
      '2: invalid netmask: dotted quad notation is required',
      "3: ops must be 'yes' or 'no'",
      '4: protocol must be tcp or udp if the virtual service is an address and port',
      '5: checkport must be in range 1..65536',
      '6: invalid port',
      '8: invalid netmask: a prefix length between 1 and 128 is required',
      '10: protocol must be fwm if the virtual service is a fwmark (a number)',
    ]);
  });

  it('inherits quiescent, email settings and fallback from the globals', async () => {
    const r = await parse(
      [
        'quiescent=yes',
        'emailalert=ops@x.org',
        'fallback=127.0.0.9',
        'fallbackcommand=/usr/local/bin/fb',
        'virtual=10.0.0.1:80',
        block(['real=127.0.0.2 gate']),
        'virtual=10.0.0.2:80',
        block(['real=127.0.0.2 gate', 'quiescent=no', 'emailalert="x@y.org"', 'fallback=127.0.0.8:8080 masq']),
        'virtual=3',
        block(['real=127.0.0.2 gate']),
      ].join('\n'),
    );
    const [a, b, fwm] = r.config!.virtuals;
    expect([a!.quiescent, a!.email.emailalert, a!.fallback, a!.fallbackcommand]).toEqual([
      true,
      ['ops@x.org'],
      { ip: '127.0.0.9', port: 80, forward: 'gate', line: 3 },
      '/usr/local/bin/fb',
    ]);
    expect([b!.quiescent, b!.email.emailalert, b!.fallback]).toEqual([
      false,
      ['x@y.org'],
      { ip: '127.0.0.8', port: 8080, forward: 'masq', line: 11 },
    ]);
    // The original builds an invalid command here (spec §4.5); ours gives port 0.
    expect(fwm!.fallback).toEqual({ ip: '127.0.0.9', port: 0, forward: 'gate', line: 3 });
  });

  it('rejects real6/fallback6 in an IPv4 block and the reverse', async () => {
    const r = await parse(
      `virtual=10.0.0.1:80\n${block(['real6=[::1]:80 gate', 'fallback6=[::1]:80'])}\nvirtual6=[::1]:80\n${block(['real=127.0.0.1:80 gate'])}\n`,
    );
    expect(errors(r)).toEqual([
      '2: cannot specify "real6" here.  please use "real" instead',
      '3: cannot specify "fallback6" here.  please use "fallback" instead',
      '5: cannot specify "real" here.  please use "real6" instead',
    ]);
  });

  it('rejects unknown block directives with the raw text', async () => {
    const r = await parse(`virtual=10.0.0.1:80\n${block(['real=127.0.0.2 gate', 'readdquiescent=yes'])}\n`);
    expect(errors(r)).toEqual(['3: Unknown command "    readdquiescent=yes"']);
  });
});

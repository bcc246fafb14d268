import { describe, expect, it } from 'vitest';
import { block, errors, parse, warnings } from './parse-helpers.js';

describe('real servers', () => {
  const virt = (...lines: string[]) => parse(`virtual=10.0.0.1:80\n${block(lines)}\n`);

  it('reads weight, per-real request/receive and thresholds', async () => {
    const r = await virt('real=127.0.0.2:8080 masq 5 "/health","UP" l:10 u:200');
    expect(r.config!.virtuals[0]!.reals[0]).toEqual({
      ip: '127.0.0.2',
      port: 8080,
      forward: 'masq',
      weight: 5,
      lowerThreshold: 10,
      upperThreshold: 200,
      request: '/health',
      receive: 'UP',
      line: 2,
    });
  });

  it('expands ranges numerically and warns where the original string loop differs', async () => {
    const r = await virt('real=59.154.201.254->59.154.202.1:80 gate');
    expect(r.config!.virtuals[0]!.reals.map((x) => x.ip)).toEqual(['59.154.201.254', '59.154.201.255', '59.154.202.0', '59.154.202.1']);
    expect(warnings(r)).toEqual(['2: this range has 4 addresses; the original ldirectord compares addresses as strings and would add 0']);
    const hosts = await virt('real=rs1.example->rs2.example gate');
    expect(hosts.config!.virtuals[0]!.reals.map((x) => x.ip)).toEqual(['127.0.0.11', '127.0.0.12', '127.0.0.13']);
  });

  it('reports the original range and address errors', async () => {
    const r = await virt(
      'real=10.0.0.5->10.0.0.1 gate',
      'real=nosuch.invalid:80 gate',
      'real=127.0.0.1:nosuchport gate',
      'real=1.2.3.4:80gate',
      'real=127.0.0.1:80 direct',
      'real=127.0.0.1:80 gate 5 x',
      'real=[::1]:80 gate',
      'real=10.0.0.1->nosuch.invalid gate',
    );
    expect(errors(r)).toEqual([
      '2: Invalid Range: 10.0.0.5-10.0.0.1: First value must be greater than or equal to the second value',
      '3: invalid address (nosuch.invalid) for real server (could not resolve host)',
      '4: invalid port (nosuchport) for real server (could not resolve port)',
      '5: invalid address for real server (wrong format)',
      '6: forward method must be gate, masq or ipip',
      '7: Invalid real server line, around " x"',
      '8: invalid address ([::1]) for real server (could not resolve host)',
      '9: invalid address (nosuch.invalid) for real server (could not resolve end host)',
    ]);
  });

  it('honours u: before l: and a weight after the strings, with warnings (fix of §10)', async () => {
    const r = await virt('real=127.0.0.2:80 gate u:20 l:10', 'real=127.0.0.3:80 gate "/a","b" 7');
    const [a, b] = r.config!.virtuals[0]!.reals;
    expect([a!.lowerThreshold, a!.upperThreshold]).toEqual([10, 20]);
    expect([b!.weight, b!.request, b!.receive]).toEqual([7, '/a', 'b']);
    expect(warnings(r).map((w) => w.slice(0, 20))).toEqual(['2: "u:" given before', '3: weight given afte']);
  });

  it('keeps the original leniency for junk before the weight, with a warning', async () => {
    const r = await virt('real=127.0.0.2:80 gate junk 5');
    expect(r.config!.virtuals[0]!.reals[0]!.weight).toBe(5);
    expect(warnings(r)).toEqual(['2: text "junk" in the real server line is ignored (as the original ldirectord ignores it)']);
  });

  it('refuses absurdly large ranges instead of looping over them', async () => {
    const r = await virt('real=10.0.0.0->10.255.255.255 gate');
    expect(errors(r)[0]).toMatch(/^2: real server range of 16777216 addresses is larger than 65536/);
  });
});

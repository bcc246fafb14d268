// Option parsing: the original's require_order, plus -j/--json, which may also
// follow the status command (the one place people write it).
import { describe, expect, it } from 'vitest';
import { parseArgs } from '../../lib/cli/args.js';

const parsed = (...argv: string[]) => {
  const r = parseArgs(argv);
  if (!r.ok) return { unknown: r.unknown };
  return { json: r.args.json, debug: r.args.debug, positional: r.args.positional };
};

describe('parseArgs', () => {
  it('stops at the first non-option, as the original (require_order)', () => {
    expect(parsed('-d', 'cf', 'start')).toEqual({ json: false, debug: true, positional: ['cf', 'start'] });
    expect(parsed('cf', '-d', 'status')).toEqual({ json: false, debug: false, positional: ['cf', '-d', 'status'] });
    expect(parsed('-x', 'start')).toEqual({ unknown: 'x' });
  });

  it('-j/--json before the arguments, bundled or not', () => {
    expect(parsed('-j', 'cf', 'status')).toEqual({ json: true, debug: false, positional: ['cf', 'status'] });
    expect(parsed('--json', 'status')).toEqual({ json: true, debug: false, positional: ['status'] });
    expect(parsed('-dj', 'status')).toEqual({ json: true, debug: true, positional: ['status'] });
  });

  it('--json/-j right after status, with or without a config', () => {
    expect(parsed('cf', 'status', '--json')).toEqual({ json: true, debug: false, positional: ['cf', 'status'] });
    expect(parsed('status', '-j')).toEqual({ json: true, debug: false, positional: ['status'] });
  });

  it('anything else after the command stays a positional (the original ignores it)', () => {
    expect(parsed('cf', 'start', '--json')).toEqual({ json: false, debug: false, positional: ['cf', 'start', '--json'] });
    expect(parsed('cf', 'status', '--jsonx')).toEqual({ json: false, debug: false, positional: ['cf', 'status', '--jsonx'] });
    expect(parsed('cf', 'status', 'x', '--json')).toEqual({ json: false, debug: false, positional: ['cf', 'status', 'x', '--json'] });
  });
});

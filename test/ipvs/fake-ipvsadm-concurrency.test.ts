// The fake ipvsadm stands in for one kernel table shared by several processes (two
// daemons in the lifecycle tests): like the kernel, it must not lose a change made
// by one run while another runs.
import { afterEach, expect, it } from 'vitest';
import { execa } from 'execa';
import { FAKE_IPVSADM, fakeIpvsadm, type FakeIpvsadm } from '../support/fake-ipvsadm-helper.js';

let fake: FakeIpvsadm | undefined;
afterEach(() => fake?.cleanup());

it('keeps every change of 12 runs made at once on one state file', async () => {
  fake = fakeIpvsadm();
  const env = fake.env;
  const runs = Array.from({ length: 12 }, (_, i) => execa(FAKE_IPVSADM, ['-A', '-t', `192.0.2.${i + 1}:80`, '-s', 'wrr'], { env }));
  for (const r of await Promise.all(runs)) expect(r.exitCode).toBe(0);
  const services = fake
    .sh('-S', '-n')
    .split('\n')
    .filter((l) => l.startsWith('-A'));
  expect(services).toHaveLength(12);
}, 60_000);

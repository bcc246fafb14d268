// ldirectord_fallback_weight: the fallback's weight in the table per virtual,
// read from the status document at each scrape (the alert on a serving fallback).
import { describe, expect, it } from 'vitest';
import { DaemonMetrics } from '../../lib/status/metrics.js';
import type { StatusDocument, VirtualStatus } from '../../lib/status/document.js';

const v = (id: string, fallback: VirtualStatus['fallback']): VirtualStatus => ({
  id,
  name: id,
  protocol: 'tcp',
  scheduler: 'wrr',
  service: 'http',
  checktype: 'negotiate',
  checkinterval: 5,
  failurecount: 1,
  successcount: 1,
  slowstart: 0,
  quiescent: false,
  inTable: true,
  fallback,
  reals: [],
});

describe('ldirectord_fallback_weight', () => {
  it('is the fallback weight in the table, 0 when absent; virtuals without a fallback have none', async () => {
    let doc: StatusDocument = {
      schema: 1,
      config: '',
      daemon: { state: 'running', pid: 1 },
      virtuals: [
        v('tcp:192.0.2.1:80', { address: '127.0.0.1:80', forward: 'gate', ipvsWeight: 1 }),
        v('tcp:192.0.2.2:80', { address: '127.0.0.1:80', forward: 'gate', ipvsWeight: null }),
        v('tcp:192.0.2.3:80', null),
      ],
    };
    const m = new DaemonMetrics(() => doc);
    const lines = (await m.text()).split('\n').filter((l) => l.startsWith('ldirectord_fallback_weight{'));
    expect(lines).toEqual([
      'ldirectord_fallback_weight{virtual="tcp:192.0.2.1:80",fallback="127.0.0.1:80"} 1',
      'ldirectord_fallback_weight{virtual="tcp:192.0.2.2:80",fallback="127.0.0.1:80"} 0',
    ]);
    doc = { ...doc, virtuals: [] };
    expect((await m.text()).split('\n').filter((l) => l.startsWith('ldirectord_fallback_weight{'))).toEqual([]);
  });
});

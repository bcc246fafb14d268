// Preloaded into the measured daemon (BENCH_DAEMON_NODE_ARGS="--import <this file>"): a
// sampling heap profile of the objects that survive the young generation (promoted, or
// still alive), those a full GC later collected included, i.e. what fills the old
// generation between full GCs. Objects that die in a scavenge are left out (set
// BENCH_PROMOTED_ALL=1 to count every allocation). From BENCH_PROMOTED_FROM to
// BENCH_PROMOTED_TO seconds after start-up, written to $BENCH_PROMOTED (a .heapprofile,
// which Chrome DevTools opens; bench/heap-profile-top.mjs lists it by allocation site).
import { Session } from 'node:inspector';
import { writeFileSync } from 'node:fs';

const out = process.env.BENCH_PROMOTED;
if (out) {
  const session = new Session();
  session.connect();
  const post = (method, params) =>
    new Promise((resolve, reject) => {
      session.post(method, params, (err, r) => (err ? reject(err) : resolve(r)));
    });
  const start = async () => {
    await post('HeapProfiler.enable');
    await post('HeapProfiler.startSampling', {
      samplingInterval: 8192,
      includeObjectsCollectedByMajorGC: true,
      includeObjectsCollectedByMinorGC: process.env.BENCH_PROMOTED_ALL === '1',
    });
  };
  setTimeout(() => void start(), Number(process.env.BENCH_PROMOTED_FROM ?? 0) * 1000).unref();
  setTimeout(
    async () => {
      const { profile } = await post('HeapProfiler.getSamplingProfile');
      writeFileSync(out, JSON.stringify(profile));
      await post('HeapProfiler.stopSampling');
    },
    Number(process.env.BENCH_PROMOTED_TO ?? 20) * 1000,
  ).unref();
}

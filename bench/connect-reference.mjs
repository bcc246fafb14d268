// The floor for a connect check on this machine: a bare net.connect + destroy loop (no
// ldirectord code), in its own process, against the given addresses. Prints the CPU
// seconds of this process per connection, so that the daemon's cost per check can be
// given as a ratio to it (bench/ci-ratios.mjs).
//   node bench/connect-reference.mjs <count> <ip:port>...
import net from 'node:net';

const [count, ...targets] = process.argv.slice(2);
const total = Number(count);
const IN_FLIGHT = 16;
let started = 0;
let failed = 0;
const one = (ip, port) =>
  new Promise((resolve) => {
    const s = net.connect({ host: ip, port });
    s.once('connect', () => {
      s.destroy();
      resolve();
    });
    s.once('error', () => {
      failed++;
      s.destroy();
      resolve();
    });
  });
const cpu0 = process.cpuUsage();
await Promise.all(
  Array.from({ length: IN_FLIGHT }, async () => {
    while (started < total) {
      const [ip, port] = targets[started++ % targets.length].split(':');
      await one(ip, Number(port));
    }
  }),
);
const c = process.cpuUsage(cpu0);
console.log(JSON.stringify({ connects: total, failed, cpuPerConnect: (c.user + c.system) / 1e6 / total }));

// `npm run demo`: ldirectord-ts directing three local "real servers" on 127.0.0.x,
// with a dry-run ipvsadm (the test suite's fake, which keeps the table in a JSON
// file and prints it like the real one), so no IPVS kernel is needed. It shows
// the log lines an admin would see as a real server dies, comes back, and as
// all of them die and the fallback takes over.
import http from 'node:http';
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, symlinkSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const dir = mkdtempSync(join(tmpdir(), 'ldirectord-demo-'));
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const say = (m) => console.log(`\n\x1b[1m== ${m}\x1b[0m`);

const servers = new Map();
function startServer(ip, port, body) {
  return new Promise((resolve) => {
    const s = http.createServer((_q, res) => res.end(body)).listen(port, ip, () => resolve(s));
    servers.set(`${ip}:${port}`, s);
  });
}
function stopServer(ip, port) {
  const s = servers.get(`${ip}:${port}`);
  servers.delete(`${ip}:${port}`);
  s.closeAllConnections?.();
  return new Promise((r) => s.close(r));
}

const config = `# ldirectord-ts demo: LVS-NAT, two real servers, a fallback
checktimeout=1
checkinterval=1
quiescent=no
virtual=192.0.2.10:80
    real=127.0.0.2:8080 masq 1
    real=127.0.0.3:8080 masq 2
    fallback=127.0.0.4:8080 masq
    service=http
    request="health"
    receive="OK"
    scheduler=wlc
`;
writeFileSync(join(dir, 'demo.cf'), config);
// In debug mode (-d) ldirectord, like the original, runs ./ipvsadm if there is one.
symlinkSync(join(root, 'test/support/fake-ipvsadm'), join(dir, 'ipvsadm'));
const env = { ...process.env, FAKE_IPVSADM_STATE: join(dir, 'table.json') };
const table = () => {
  const out = execFileSync(join(dir, 'ipvsadm'), ['-L', '-n'], { env, encoding: 'utf8' });
  console.log(
    out
      .trimEnd()
      .split('\n')
      .map((l) => `   | ${l}`)
      .join('\n'),
  );
};

await startServer('127.0.0.2', 8080, 'OK from real 1\n');
await startServer('127.0.0.3', 8080, 'OK from real 2\n');
await startServer('127.0.0.4', 8080, 'Sorry, we are down for maintenance\n');

say(`config ${join(dir, 'demo.cf')}:`);
console.log(
  config
    .trimEnd()
    .split('\n')
    .map((l) => `   | ${l}`)
    .join('\n'),
);
say('ldirectord -t demo.cf');
try {
  execFileSync(process.execPath, [join(root, 'bin/ldirectord'), '-t', 'demo.cf'], { cwd: dir, stdio: 'inherit' });
  console.log('   valid (exit 0)');
} catch (e) {
  console.log(`   exit ${e.status}`);
}

say('ldirectord -d demo.cf start   (log lines below come from the daemon)');
const daemon = spawn(process.execPath, [join(root, 'bin/ldirectord'), '-d', 'demo.cf', 'start'], { cwd: dir, env });
let buf = '';
const seen = [];
const waiters = [];
daemon.stderr.on('data', (d) => {
  buf += d;
  let i;
  while ((i = buf.indexOf('\n')) >= 0) {
    const line = buf.slice(0, i);
    buf = buf.slice(i + 1);
    if (line.startsWith('DEBUG')) continue;
    console.log(`   ldirectord: ${line}`);
    seen.push(line);
    for (const w of [...waiters]) if (w.re.test(line)) w.done();
  }
});
/** Waits for the daemon to log a line matching re (what the demo is about to show). */
function waitFor(re, ms = 20_000) {
  if (seen.some((l) => re.test(l))) seen.length = 0;
  return new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`the daemon did not log ${re} within ${ms} ms`)), ms);
    const w = {
      re,
      done: () => {
        clearTimeout(t);
        waiters.splice(waiters.indexOf(w), 1);
        seen.length = 0;
        resolve();
      },
    };
    waiters.push(w);
  });
}

await waitFor(/Added real server: 127\.0\.0\.3/);
await sleep(300);
say('IPVS table (dry run):');
table();

say('real server 127.0.0.3:8080 dies');
await stopServer('127.0.0.3', 8080);
await waitFor(/Deleted real server: 127\.0\.0\.3/);
table();

say('it comes back');
await startServer('127.0.0.3', 8080, 'OK from real 2\n');
await waitFor(/Added real server: 127\.0\.0\.3/);
table();

say('both real servers die: the fallback takes over');
await stopServer('127.0.0.2', 8080);
await stopServer('127.0.0.3', 8080);
await waitFor(/Added fallback server/);
await sleep(1500);
table();

say('ldirectord stops (cleanstop=yes: its virtual is removed)');
daemon.kill('SIGTERM');
await new Promise((r) => daemon.on('exit', r));
table();

for (const [k] of servers) await stopServer(...k.split(':'));
rmSync(dir, { recursive: true, force: true });
say('done');

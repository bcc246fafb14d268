// Local peers for bench/checks.mjs, in their own process so that the bench
// measures the checker's CPU alone: a TCP listener, an HTTP and an HTTPS server.
import net from 'node:net';
import http from 'node:http';
import https from 'node:https';
import { readFileSync } from 'node:fs';

const [dir] = process.argv.slice(2);
const key = readFileSync(`${dir}/key.pem`);
const cert = readFileSync(`${dir}/cert.pem`);
const body = 'OK\n';
const servers = [
  net.createServer((s) => s.destroy()).listen(9501, '127.0.50.1'),
  http.createServer((_q, r) => r.end(body)).listen(9502, '127.0.50.1'),
  https.createServer({ key, cert }, (_q, r) => r.end(body)).listen(9503, '127.0.50.1'),
];
let ready = 0;
for (const s of servers) s.on('listening', () => ++ready === servers.length && process.send?.('ready'));
process.on('disconnect', () => process.exit(0));

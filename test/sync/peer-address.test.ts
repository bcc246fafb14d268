import { describe, expect, it } from 'vitest';
import { parsePeer } from '../../lib/sync/peer-address.js';

const D = { user: 'root', port: 22, path: '/etc/ha.d/ldirectord.cf' };

describe('parsePeer', () => {
  it('reads the scp style, defaults from the command line', () => {
    expect(parsePeer('standby', D)).toEqual({ text: 'standby', user: 'root', host: 'standby', port: 22, path: D.path });
    expect(parsePeer('admin@10.0.0.2', { ...D, port: 2222 })).toMatchObject({ user: 'admin', host: '10.0.0.2', port: 2222, path: D.path });
    expect(parsePeer('admin@standby:/etc/ld with space.cf', D)).toMatchObject({
      user: 'admin',
      host: 'standby',
      path: '/etc/ld with space.cf',
    });
    expect(parsePeer('standby:', D)).toMatchObject({ path: D.path });
  });

  it('reads IPv6 only in brackets', () => {
    expect(parsePeer('root@[2001:db8::2]:/etc/x.cf', D)).toMatchObject({ host: '2001:db8::2', port: 22, path: '/etc/x.cf' });
    expect(parsePeer('[::1]', D)).toMatchObject({ host: '::1', path: D.path });
    expect(parsePeer('root@2001:db8::2', D)).toMatchObject({ error: expect.stringContaining('in brackets') });
    expect(parsePeer('[standby]', D)).toMatchObject({ error: expect.stringContaining('not an IPv6 address') });
  });

  it('reads the URI style with a port', () => {
    expect(parsePeer('ssh://admin@[2001:db8::2]:2222/etc/ha.d/x.cf', D)).toEqual({
      text: 'ssh://admin@[2001:db8::2]:2222/etc/ha.d/x.cf',
      user: 'admin',
      host: '2001:db8::2',
      port: 2222,
      path: '/etc/ha.d/x.cf',
    });
    expect(parsePeer('ssh://127.0.90.1:2201', D)).toMatchObject({ user: 'root', host: '127.0.90.1', port: 2201, path: D.path });
    expect(parsePeer('ssh://h/a:b@c', D)).toMatchObject({ host: 'h', port: 22, path: '/a:b@c' });
    for (const bad of ['ssh://h:0', 'ssh://h:70000', 'ssh://h:x/p', 'ssh://']) expect(parsePeer(bad, D)).toHaveProperty('error');
  });

  it('refuses relative paths, directories and empty hosts', () => {
    expect(parsePeer('h:etc/x.cf', D)).toMatchObject({ error: expect.stringContaining('absolute') });
    expect(parsePeer('h:/etc/', D)).toMatchObject({ error: expect.stringContaining('directory') });
    expect(parsePeer('root@:/x', D)).toMatchObject({ error: expect.stringContaining('no host') });
    expect(parsePeer('', D)).toHaveProperty('error');
  });
});

// RFC 2047 encoded-words for alert headers that are not printable ASCII. The expected
// texts are what the mails' header encoder has always written.
import { describe, expect, it } from 'vitest';
import { encodeHeaderWords } from '../../lib/daemon/header-words.js';

describe('encodeHeaderWords', () => {
  it('leaves ASCII text without quotes alone', () => {
    expect(encodeHeaderWords('Deleted real server: 127.0.0.2:80 (10.0.0.1:80)')).toBe('Deleted real server: 127.0.0.2:80 (10.0.0.1:80)');
  });

  it('encodes from the first to the last word that needs it, the rest as it is', () => {
    expect(encodeHeaderWords('"LD Älerts" <ld@example.com>')).toBe('=?UTF-8?Q?=22LD_=C3=84lerts=22?= <ld@example.com>');
    expect(encodeHeaderWords('tab\there ü_under?')).toBe('tab\there =?UTF-8?Q?=C3=BC=5Funder=3F?=');
  });

  it('splits long text into words of at most 52 characters, between whole characters', () => {
    expect(encodeHeaderWords('ééééééééééééééééééééééééé end')).toBe(
      '=?UTF-8?Q?=C3=A9=C3=A9=C3=A9=C3=A9=C3=A9=C3=A9?= =?UTF-8?Q?=C3=A9=C3=A9=C3=A9=C3=A9=C3=A9=C3=A9?= ' +
        '=?UTF-8?Q?=C3=A9=C3=A9=C3=A9=C3=A9=C3=A9=C3=A9?= =?UTF-8?Q?=C3=A9=C3=A9=C3=A9=C3=A9=C3=A9=C3=A9?= =?UTF-8?Q?=C3=A9?= end',
    );
    expect(encodeHeaderWords('a 😀😀😀😀😀😀😀😀😀😀😀😀😀😀 b')).toBe(
      'a =?UTF-8?Q?=F0=9F=98=80=F0=9F=98=80=F0=9F=98=80?= =?UTF-8?Q?=F0=9F=98=80=F0=9F=98=80=F0=9F=98=80?= ' +
        '=?UTF-8?Q?=F0=9F=98=80=F0=9F=98=80=F0=9F=98=80?= =?UTF-8?Q?=F0=9F=98=80=F0=9F=98=80=F0=9F=98=80?= =?UTF-8?Q?=F0=9F=98=80=F0=9F=98=80?= b',
    );
    for (const word of encodeHeaderWords('x ' + 'ü'.repeat(200))
      .split(' ')
      .slice(1))
      expect(word.length).toBeLessThanOrEqual(52);
  });

  it('encodes a word holding =? (a receiver would try to decode it)', () => {
    expect(encodeHeaderWords('Ü =?x?= y')).toBe('=?UTF-8?Q?=C3=9C_=3D=3Fx=3F=3D?= y');
  });
});

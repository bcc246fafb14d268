// Patterns every receive translation must handle like perl, and subjects to try them on
// (regex.test.ts checks them against perl(1); receive-match.test.ts against the RegExp).

export const SUBJECTS = [
  '', 'a', 'ab', 'abc', 'ABC', 'aBc', 'xabcx', 'aaa', 'aaab', 'aab', 'b', 'ba',
  'foo\n', 'foo\nbar', 'foo\nbar\n', '\nfoo', 'foo\r\n', 'a\rb', 'a\nb', 'a\r\nb', '\n', '\r\n',
  'HTTP/1.1 200 OK', 'Hello World', 'hello world', 'OK', 'ok', 'Ok', 'It works!', '<html><body>OK</body></html>',
  '{"status":"UP"}', 'status: up\n', 'a.b', 'a+b', 'a b', 'a\tb', 'a\x0bb', 'a\fb', 'a\u00a0b', 'a\u0085b',
  'grüße', 'Größe 42', 'é', 'É', 'aé', 'x{2}', 'a{,}b', 'abab', 'abcabc', 'aXbXc', '123', 'a1b2', '1.2.3.4',
  'abba', 'xyzzy', 'a-b', ']', '[', '\\', 'a]b', 'tab\there', 'foofoo', 'foobar', 'FOOBAR', 'xx\n\nyy',
];

export const TRANSLATABLE = [
  // plain
  'a', 'abc', 'b+', 'a*b', 'a?b', 'a{2}', 'a{2,}', 'a{1,2}b', 'a{,2}b', 'a{ 1 , 2 }b', 'x{2', 'a{,}b', 'x\\{2\\}',
  '^a', 'c$', '^$', '^abc$', 'a|b', 'ab|cd', '(a)(b)', '(?:ab)+', 'a.c', 'a.b', '.', '^.$', '^..$',
  'OK', 'It works', '200 OK', '"status":"UP"', '<body>OK', '[0-9]+', '\\d+\\.\\d+', '^\\d+$', '\\w+', '\\W', '\\bworld\\b', '\\Bor',
  // anchors
  '\\Aa', 'b\\z', 'b\\Z', 'foo\\Z', 'foo\\z', 'foo$', 'bar$', '^bar', '(?m)^bar', '(?m)foo$', '(?m)^$', '(?m)^', '(?m)$',
  '\\Gabc', 'a$\\n', '^\\n', '\\n\\z', '\\n\\Z',
  // dot and newlines
  'a.b', 'foo.bar', '(?s)foo.bar', 'a[^x]b', 'a\\Nb', '\\R', 'a\\Rb', '\\R\\n', '\\r\\n', 'a\\r?\\nb',
  // whitespace classes
  'a\\sb', 'a\\Sb', 'a\\hb', 'a\\Hb', 'a\\vb', 'a\\Vb', '[\\s]', '[^\\s]', '[\\S]', '\\s+$', 'a[\\h]b',
  // case
  '(?i)ok', '(?i)OK', '(?i:o)K', 'O(?i)k', '(?i)hello WORLD', '(?-i)ok', '(?i)(?-i:O)k', '(?i)[a-c]+', '(?i)[^a]', '(?i)é',
  '(?i)größe', '(?^i:ABC)', '(?i)a(?^:b)c', '(?i:a|B)c', 'a(?i)b|C',
  // extended
  '(?x) a b c ', '(?x)a\\ b', '(?x)a # comment\n b', '(?x)[ ]', '(?xx)[a b]+', '(?x)a +', 'a(?#comment)b', 'a(?#x)*', '(?x: a b )c',
  // possessive and atomic
  'a++', 'a*+b', 'a?+b', 'a{1,2}+b', 'a++b', '(?>a+)b', '(?>a|ab)c', '(a)(?>b+)(c)\\2', '(?>(a))\\1', '(ab)++\\1',
  '(*atomic:a+)b', '(*pla:a)a', '(*nla:b)a', '(*plb:a)b', '(*nlb:a)b', '"\\w++"',
  // groups and backreferences
  '(a)\\1', '(a)(b)\\2\\1', '(a)\\g1', '(a)\\g{1}', '(a)\\g{-1}', '(a)(b)\\g-2', '(?<x>ab)\\k<x>', "(?'x'ab)\\k'x'", '(?P<x>ab)(?P=x)',
  '(?<x>a)\\k{x}', '(?<x>b)\\g{x}', '(?n)(a)(b)', '(a)(?n:(b))(c)\\2', '(a)|b',
  '(?=ab)a', '(?!ab)a', '(?<=a)b', '(?<!a)b',
  // classes
  '[abc]', '[^abc]', '[a-c]', '[]a]', '[^]a]', '[a-]', '[-a]', '[\\d-z]+', '[\\]]', '[\\\\]', '[[:alpha:]]+', '[[:^alpha:]]',
  '[[:digit:][:space:]]+', '[[:punct:]]', '[[:upper:]]', '(?i)[[:upper:]]+', '[[:word:]]+', '[[:xdigit:]]+', '[\\w.]+',
  '[\\x41-\\x43]', '[\\101]', '[\\b]', '[.]', '[$^]', '[a\\-c]', '[\\t ]',
  // escapes
  '\\x41', '\\x{41}', '\\x4', '\\101', '\\0', '\\012', '\\o{101}', '\\cA', '\\e', '\\t', '\\N{U+41}', '\\.', '\\+', '\\/', '\\-', '\\ ',
  '\\xc3\\xa9', '\\x{e9}', 'é', 'grü', 'ü+', 'a\\x{a0}b', '\\$', '\\@', '@x', '$x', 'a$|b',
  // lazy
  'a+?', 'a*?b', '<.+?>', 'a{1,2}?',
  // braces and brackets as literals
  ']', '}', 'a{', '{', 'x{1,a}',
];

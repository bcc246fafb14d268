// The config of the drift-check tests, and the table it converges to.
export const NAT = `checkinterval=1
quiescent=yes
virtual=192.0.2.1:80
    real=127.0.0.2:80 masq 3
    real=127.0.0.3:80 masq 1
`;
export const RIGHT = [
  '-A -t 192.0.2.1:80 -s wrr',
  '-a -t 192.0.2.1:80 -r 127.0.0.2:80 -m -w 3',
  '-a -t 192.0.2.1:80 -r 127.0.0.3:80 -m -w 1',
];

# Listeners that never answer a SYN: each listens with a backlog of 0 and never accepts;
# two connections of its own fill the accept queue, and Linux then drops every further
# SYN, so a check's connect() hangs until its timeout, as with a dead host. (Node accepts
# by itself, hence this helper.) Reads "ip port" lines on stdin; prints "ok ip port" when
# that address hangs; exits when stdin closes.
import socket
import sys

held = []
for line in sys.stdin:
    ip, port = line.split()
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((ip, int(port)))
    s.listen(0)
    fillers = []
    for i in range(2):
        c = socket.socket()
        c.setblocking(i == 0)
        try:
            c.connect((ip, int(port)))
        except BlockingIOError:
            pass
        fillers.append(c)
    held.append((s, fillers))
    print("ok", ip, port, flush=True)

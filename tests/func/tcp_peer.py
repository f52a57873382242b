# SPDX-License-Identifier: BSD-2-Clause
# TCP endpoints for the tests through host rings (nic_lib.bash: tcp_xfer),
# each bounded in time.
#
#   tcp_peer.py server ADDR PORT
#       accepts one connection, reads to EOF, answers "got N SHA256"
#   tcp_peer.py client ADDR PORT NBYTES
#       sends NBYTES of a fixed pseudo-random pattern, checks the answer
#       (exit 0 if the server got exactly those bytes, 1 otherwise)
#   tcp_peer.py blocked ADDR PORT SECS
#       exit 0 if no connection is made within SECS (no SYN-ACK, no RST),
#       1 if it connects or is refused
import hashlib
import socket
import sys
import time


def pattern(n):
    # the same bytes every run, not one repeated byte: a reordered or
    # duplicated segment changes the digest
    blocks = (hashlib.sha256(b"%d" % i).digest() for i in range(n // 32 + 1))
    return b"".join(blocks)[:n]


def server(addr, port):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((addr, port))
    s.listen(1)
    s.settimeout(20)
    c, _ = s.accept()
    c.settimeout(20)
    h = hashlib.sha256()
    n = 0
    while True:
        d = c.recv(65536)
        if not d:
            break
        h.update(d)
        n += len(d)
    c.sendall(b"got %d %s" % (n, h.hexdigest().encode()))
    c.close()


def client(addr, port, n):
    data = pattern(n)
    c = None
    for _ in range(50):
        try:
            c = socket.create_connection((addr, port), timeout=10)
            break
        except ConnectionRefusedError:  # server not listening yet
            time.sleep(0.1)
    if c is None:
        print("client: %s:%d refused 50 times" % (addr, port))
        return 1
    c.settimeout(20)
    c.sendall(data)
    c.shutdown(socket.SHUT_WR)
    a = c.recv(200).decode()
    want = "got %d %s" % (n, hashlib.sha256(data).hexdigest())
    print(a)
    if a != want:
        print("client: want '%s'" % want)
        return 1
    return 0


def blocked(addr, port, secs):
    try:
        c = socket.create_connection((addr, port), timeout=secs)
    except socket.timeout:
        print("blocked: no connection to %s:%d in %gs" % (addr, port, secs))
        return 0
    except OSError as e:
        print("blocked: %s:%d answered: %s" % (addr, port, e))
        return 1
    c.close()
    print("blocked: %s:%d connected" % (addr, port))
    return 1


def main(argv):
    if len(argv) >= 4 and argv[1] == "server":
        server(argv[2], int(argv[3]))
        return 0
    if len(argv) >= 5 and argv[1] == "client":
        return client(argv[2], int(argv[3]), int(argv[4]))
    if len(argv) >= 5 and argv[1] == "blocked":
        return blocked(argv[2], int(argv[3]), float(argv[4]))
    print("usage: host_ex_tcp.py server ADDR PORT | client ADDR PORT NBYTES |"
          " blocked ADDR PORT SECS", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))

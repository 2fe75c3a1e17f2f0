#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""A null LMTP server: accepts every recipient and every message, stores
nothing. It exists to measure bench/lmtp_load.py itself: the rate the
generator reaches against this sink is the ceiling of what the harness
can measure, and it must be far above what Commune or Dovecot reach.

One process per connection (ForkingTCPServer: no GIL shared between
connections); commands are parsed line by line, message
data is skipped by searching for CRLF.CRLF. Replies are batched per read
so pipelined clients are answered in one write.

    bench/lmtp_sink.py --port 2525          (runs until SIGTERM/SIGINT)
"""
import argparse
import socket
import socketserver
import threading

MAX_LINE = 4096


class _Handler(socketserver.BaseRequestHandler):
    def handle(self):
        s = self.request
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        s.settimeout(300)
        s.sendall(b"220 sink LMTP ready\r\n")
        buf = bytearray()
        rcpts = 0
        in_data = False
        scan = 0
        while True:
            data = s.recv(1 << 20)
            if not data:
                return
            buf += data
            out = []
            while True:
                if in_data:
                    # The terminator may be the very first line of data.
                    if buf.startswith(b".\r\n"):
                        end = 0
                    else:
                        end = buf.find(b"\r\n.\r\n", max(0, scan - 4))
                        if end >= 0:
                            end += 2
                    if end < 0:
                        scan = len(buf)
                        break
                    del buf[:end + 3]
                    scan = 0
                    in_data = False
                    out.append(b"250 2.0.0 ok\r\n" * rcpts)
                    rcpts = 0
                    continue
                i = buf.find(b"\n")
                if i < 0:
                    if len(buf) > MAX_LINE:
                        return
                    break
                line = bytes(buf[:i]).rstrip(b"\r").upper()
                del buf[:i + 1]
                if line.startswith(b"RCPT"):
                    rcpts += 1
                    out.append(b"250 2.1.5 ok\r\n")
                elif line.startswith(b"DATA"):
                    out.append(b"354 go ahead\r\n")
                    in_data = True
                    scan = 0
                elif line.startswith(b"LHLO"):
                    out.append(b"250-sink\r\n250 PIPELINING\r\n")
                elif line.startswith(b"QUIT"):
                    out.append(b"221 bye\r\n")
                    s.sendall(b"".join(out))
                    return
                else:
                    if line.startswith(b"MAIL") or line.startswith(b"RSET"):
                        rcpts = 0
                    out.append(b"250 ok\r\n")
            if out:
                s.sendall(b"".join(out))


class Sink(socketserver.ForkingTCPServer):
    allow_reuse_address = True
    max_children = 256

    def __init__(self, port=0):
        super().__init__(("127.0.0.1", port), _Handler)
        self.port = self.server_address[1]
        self._thread = None

    def start(self):
        """Serves in a background thread; returns self. (Forking from a
        threaded process is safe here: children only run the handler.)"""
        self._thread = threading.Thread(target=self.serve_forever,
                                        kwargs={"poll_interval": 0.1},
                                        daemon=True)
        self._thread.start()
        return self

    def stop(self):
        self.shutdown()
        self.server_close()
        if self._thread:
            self._thread.join(timeout=5)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--port", type=int, default=0)
    args = ap.parse_args()
    srv = Sink(args.port)
    print(f"sink listening on 127.0.0.1:{srv.port}", flush=True)
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        srv.server_close()


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Record what clients send to an SSH agent: listen on LISTEN, forward every connection to the
agent at UPSTREAM, and append the client-to-agent bytes (already length-prefixed messages) to OUT.
Runs until SIGTERM. Used by capture.sh."""

import os
import signal
import socket
import sys
import threading

listen, upstream, out = sys.argv[1:4]
lock = threading.Lock()


def pump(src, dst, record):
    try:
        while True:
            data = src.recv(65536)
            if not data:
                break
            if record:
                with lock, open(out, "ab") as f:
                    f.write(data)
            dst.sendall(data)
    except OSError:
        pass
    finally:
        for s in (src, dst):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


def serve(client):
    agent = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    agent.connect(upstream)
    threading.Thread(target=pump, args=(agent, client, False), daemon=True).start()
    pump(client, agent, True)


signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
server.bind(listen)
server.listen(16)
while True:
    conn, _ = server.accept()
    threading.Thread(target=serve, args=(conn,), daemon=True).start()

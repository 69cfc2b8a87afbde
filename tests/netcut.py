"""A TCP proxy that can black-hole its traffic: a network partition between one client and a server."""

from __future__ import annotations

import contextlib
import socket
import threading


class CuttableProxy:
    """Forwards 127.0.0.1:<port> to a target; `cut()` silently drops everything until `restore()`.

    A cut looks like a real partition to the client: connections stay open, requests are
    accepted and never answered, so the client's own timeouts and deadlines are what fire.
    """

    def __init__(self, target_port: int, target_host: str = "127.0.0.1") -> None:
        self.target = (target_host, target_port)
        self._server = socket.create_server(("127.0.0.1", 0))
        self.port: int = self._server.getsockname()[1]
        self._cut = threading.Event()
        self._lock = threading.Lock()
        self._connections: list[socket.socket] = []
        self._closed = False
        threading.Thread(target=self._accept, daemon=True, name="proxy-accept").start()

    def cut(self) -> None:
        self._cut.set()

    def restore(self) -> None:
        """End the partition; connections that lived through it are closed, as a router reset would."""
        with self._lock:
            stale, self._connections = self._connections, []
        for sock in stale:
            with contextlib.suppress(OSError):
                sock.close()
        self._cut.clear()

    def close(self) -> None:
        self._closed = True
        self.restore()
        self._server.close()

    def _accept(self) -> None:
        while not self._closed:
            try:
                client, _ = self._server.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            upstream.settimeout(None)
            with self._lock:
                self._connections += [client, upstream]
            threading.Thread(target=self._pump, args=(client, upstream), daemon=True).start()
            threading.Thread(target=self._pump, args=(upstream, client), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while True:
                data = source.recv(65536)
                if not data:
                    break
                if self._cut.is_set():
                    continue  # black hole
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (source, sink):
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)

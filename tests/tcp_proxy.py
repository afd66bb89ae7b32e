"""A TCP proxy on 127.0.0.1 between the app and a real database, which a test can cut.

`cut("refuse")` drops every open connection and closes new ones at once (a server that went
away); `cut("hang")` drops open connections and accepts new ones without ever answering
(a server or network that swallows packets). `restore()` forwards again.
"""

from __future__ import annotations

import socket
import threading


class TcpProxy:
    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self.mode = "up"
        self._lock = threading.Lock()
        self._open: list[socket.socket] = []
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self._stopped = False
        self._thread = threading.Thread(target=self._accept, name="tcp-proxy", daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        while not self._stopped:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            if self.mode == "refuse":
                client.close()
                continue
            if self.mode == "hang":
                self._track(client)  # held open, never answered
                continue
            try:
                upstream = socket.create_connection(self.target, timeout=5)
                upstream.settimeout(None)
            except OSError:
                client.close()
                continue
            self._track(client, upstream)
            for src, dst in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(src, dst), daemon=True).start()

    def _track(self, *socks: socket.socket) -> None:
        with self._lock:
            self._open.extend(socks)

    @staticmethod
    def _pump(src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                s.close()

    def _drop_all(self) -> None:
        with self._lock:
            socks, self._open = self._open, []
        for s in socks:
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            s.close()

    def cut(self, mode: str = "refuse") -> None:
        """Make the database unreachable: open connections die, new ones fail (`mode`)."""
        assert mode in ("refuse", "hang")
        self.mode = mode
        self._drop_all()

    def restore(self) -> None:
        self.mode = "up"
        self._drop_all()  # connections held by "hang" were never answered

    def close(self) -> None:
        self._stopped = True
        self._listener.close()
        self._drop_all()
        self._thread.join(timeout=5)

"""A real SFTP server on loopback for delivery tests (asyncssh, chrooted, password auth).

`drop_after_bytes` makes the first `drops` connections abort after that many bytes were written, which is what a
dropped connection in the middle of an upload looks like to the client. `stall_after_bytes` makes the first
`stalls` connections stop answering (the connection stays open) after that many bytes; `disk_full_after_bytes`
answers every write past that point with ENOSPC; `deny_writes` answers every upload and mkdir with EACCES.
`host_key_line` / `known_hosts_line` give the server's public key for the client's host-key check.
"""

from __future__ import annotations

import asyncio
import errno
import threading
from dataclasses import dataclass
from pathlib import Path

import asyncssh

USER = "eikis"
PASSWORD = "loopback-only"


@dataclass
class _DropState:
    drop_after_bytes: int | None
    drops_left: int
    stall_after_bytes: int | None = None
    stalls_left: int = 0
    disk_full_after_bytes: int | None = None
    deny_writes: bool = False


class _Auth(asyncssh.SSHServer):
    def __init__(self, password: str = PASSWORD) -> None:
        self.password = password

    def begin_auth(self, username: str) -> bool:
        return True

    def password_auth_supported(self) -> bool:
        return True

    def validate_password(self, username: str, password: str) -> bool:
        return username == USER and password == self.password


class LoopbackSFTPServer:
    def __init__(self, root: Path, drop_after_bytes: int | None = None, drops: int = 0, *,
                 stall_after_bytes: int | None = None, stalls: int = 0, disk_full_after_bytes: int | None = None,
                 deny_writes: bool = False, password: str = PASSWORD) -> None:
        self.root = root
        self.password = password
        self.state = _DropState(drop_after_bytes, drops, stall_after_bytes, stalls, disk_full_after_bytes,
                                deny_writes)
        self.key = asyncssh.generate_private_key("ssh-ed25519")
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.acceptor: asyncssh.SSHAcceptor | None = None
        self.port = 0
        self.connections = 0

    def _factory(self) -> type[asyncssh.SFTPServer]:
        server = self

        class ChrootSFTP(asyncssh.SFTPServer):
            def __init__(self, chan: asyncssh.SSHServerChannel) -> None:
                super().__init__(chan, chroot=str(server.root).encode())
                server.connections += 1
                self.written = 0
                self.may_drop = server.state.drops_left > 0 and server.state.drop_after_bytes is not None
                if self.may_drop:
                    server.state.drops_left -= 1
                self.may_stall = server.state.stalls_left > 0 and server.state.stall_after_bytes is not None
                if self.may_stall:
                    server.state.stalls_left -= 1

            def open(self, path: bytes, pflags: int, attrs: asyncssh.SFTPAttrs) -> object:
                if server.state.deny_writes and pflags & asyncssh.FXF_WRITE:
                    raise OSError(errno.EACCES, "Permission denied")
                return super().open(path, pflags, attrs)

            def mkdir(self, path: bytes, attrs: asyncssh.SFTPAttrs) -> None:
                if server.state.deny_writes:
                    raise OSError(errno.EACCES, "Permission denied")
                return super().mkdir(path, attrs)

            async def write(self, file_obj: object, offset: int, data: bytes) -> int:
                self.written += len(data)
                if self.may_drop and self.written >= (server.state.drop_after_bytes or 0):
                    self.connection.abort()
                    raise asyncssh.SFTPConnectionLost("connection dropped by the test server")
                if self.may_stall and self.written >= (server.state.stall_after_bytes or 0):
                    await asyncio.Event().wait()  # never answers; cancelled when the server stops
                full = server.state.disk_full_after_bytes
                if full is not None and self.written >= full:
                    raise OSError(errno.ENOSPC, "No space left on device")
                return super().write(file_obj, offset, data)

        return ChrootSFTP

    def start(self, port: int = 0) -> LoopbackSFTPServer:
        self.root.mkdir(parents=True, exist_ok=True)
        self.thread.start()

        async def listen() -> asyncssh.SSHAcceptor:
            return await asyncssh.listen("127.0.0.1", port, server_host_keys=[self.key],
                                         server_factory=lambda: _Auth(self.password), sftp_factory=self._factory(),
                                         allow_scp=False)

        self.acceptor = asyncio.run_coroutine_threadsafe(listen(), self.loop).result(timeout=30)
        self.port = self.acceptor.sockets[0].getsockname()[1]
        return self

    @property
    def host_key_line(self) -> str:
        """`<type> <base64>`: the form of an Airflow SFTP connection's `host_key` extra."""
        kind, body = self.key.export_public_key("openssh").decode("ascii").split()[:2]
        return f"{kind} {body}"

    @property
    def known_hosts_line(self) -> str:
        """The server's line in a known_hosts file (a non-22 port is written `[host]:port`)."""
        return f"[127.0.0.1]:{self.port} {self.host_key_line}\n"

    def stop(self) -> None:
        if self.acceptor is not None:
            acceptor = self.acceptor

            async def close() -> None:
                acceptor.close()
                await acceptor.wait_closed()
                pending = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
                for task in pending:
                    task.cancel()
                await asyncio.gather(*pending, return_exceptions=True)

            asyncio.run_coroutine_threadsafe(close(), self.loop).result(timeout=30)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=10)


def main(argv: list[str] | None = None) -> None:
    """`python -m tests.sftp_server ROOT [--port N]`: serve ROOT on loopback until interrupted, after printing
    the port, the user and the host key line an Airflow connection's `host_key` extra takes (password:
    `loopback-only`). For trying delivery by hand; `make airflow` starts one itself."""
    import argparse
    import signal

    parser = argparse.ArgumentParser(prog="python -m tests.sftp_server", description=main.__doc__)
    parser.add_argument("root", type=Path, help="the folder the server's clients see as /")
    parser.add_argument("--port", type=int, default=0, help="the loopback port (default: any free one)")
    args = parser.parse_args(argv)
    server = LoopbackSFTPServer(args.root).start(args.port)
    print(f"sftp://{USER}@127.0.0.1:{server.port} serving {args.root}\nhost_key: {server.host_key_line}", flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        stop.wait()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()


if __name__ == "__main__":
    main()

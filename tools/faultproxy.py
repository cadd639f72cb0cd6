#!/usr/bin/env python3
"""A TCP fault proxy for outage drills: forwards 127.0.0.1:LISTEN to TARGET until told otherwise.

    python tools/faultproxy.py --target 127.0.0.1:5432 --listen-port 15432 --control-port 15433

Point the service at the listen port (``MHF_DATABASE_URL=...@127.0.0.1:15432/db``), then send one
command per line to the control port (``printf 'cut\\n' | nc 127.0.0.1 15433``):

- ``cut``: reset every open connection and refuse new ones at once (the database host's
  process died, or a firewall rejects): clients see a connection error immediately.
- ``blackhole``: reset every open connection; new connections are accepted but never answered
  (the host is gone from the network): clients wait for their own connect timeout.
- ``restore``: forward again (connections held by ``blackhole`` are reset first).
- ``status``: one JSON line with the mode and counters.

Each command is answered with one line (``ok <mode>`` or the status JSON). Standard library only;
listens on 127.0.0.1 only. Prints ``ready <listen-port> <control-port>`` once it accepts.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import socket
import sys

MODES = ("up", "cut", "blackhole")
CHUNK = 65536


class FaultProxy:
    def __init__(self, target_host: str, target_port: int) -> None:
        self.target_host = target_host
        self.target_port = target_port
        self.mode = "up"
        self.pairs: set[tuple[asyncio.StreamWriter, asyncio.StreamWriter | None]] = set()
        self.counters = {"accepted": 0, "forwarded": 0, "refused": 0, "held": 0, "reset": 0}

    # -- the data path --------------------------------------------------------------------

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.counters["accepted"] += 1
        if self.mode == "cut":
            self.counters["refused"] += 1
            _abort(writer)
            return
        if self.mode == "blackhole":
            await self._hold(reader, writer)
            return
        try:
            up_reader, up_writer = await asyncio.open_connection(self.target_host, self.target_port)
        except OSError:
            self.counters["refused"] += 1
            _abort(writer)
            return
        if self.mode != "up":  # the mode changed while we were connecting
            _abort(up_writer)
            _abort(writer)
            return
        self.counters["forwarded"] += 1
        pair = (writer, up_writer)
        self.pairs.add(pair)
        try:
            await asyncio.gather(self._pump(reader, up_writer), self._pump(up_reader, writer))
        finally:
            self.pairs.discard(pair)
            _abort(writer)
            _abort(up_writer)

    async def _pump(self, src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
        try:
            while data := await src.read(CHUNK):
                dst.write(data)
                await dst.drain()
        except (ConnectionError, OSError, asyncio.IncompleteReadError):
            pass
        finally:
            # One side ended: end both, like a dead peer would.
            _abort(dst)

    async def _hold(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """Accept and swallow: the client waits on its own timeout."""
        self.counters["held"] += 1
        pair = (writer, None)
        self.pairs.add(pair)
        try:
            while await reader.read(CHUNK):
                pass
        except (ConnectionError, OSError):
            pass
        finally:
            self.pairs.discard(pair)
            _abort(writer)

    def reset_all(self) -> None:
        for client, upstream in list(self.pairs):
            self.counters["reset"] += 1
            _abort(client)
            if upstream is not None:
                _abort(upstream)
        self.pairs.clear()

    # -- the control path -----------------------------------------------------------------

    def command(self, line: str) -> str:
        word = line.strip().lower()
        if word in ("cut", "blackhole"):
            self.mode = word
            self.reset_all()
            return f"ok {self.mode}"
        if word in ("restore", "up"):
            if self.mode == "blackhole":
                self.reset_all()
            self.mode = "up"
            return "ok up"
        if word == "status":
            return json.dumps({"mode": self.mode, "open": len(self.pairs), **self.counters})
        return f"error unknown command {word!r}; use cut, blackhole, restore or status"

    async def control(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while line := await reader.readline():
                writer.write((self.command(line.decode(errors="replace")) + "\n").encode())
                await writer.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            writer.close()


def _abort(writer: asyncio.StreamWriter) -> None:
    with contextlib.suppress(Exception):
        writer.transport.abort()


def send_command(control_port: int, command: str, timeout: float = 5.0) -> str:
    """Client side, for tests and scripts: send one command, return the answer line."""
    with socket.create_connection(("127.0.0.1", control_port), timeout=timeout) as sock:
        sock.sendall(command.encode() + b"\n")
        answer = b""
        while not answer.endswith(b"\n"):
            chunk = sock.recv(4096)
            if not chunk:
                break
            answer += chunk
    return answer.decode().strip()


async def serve(target: str, listen_port: int, control_port: int) -> None:
    host, _, port = target.rpartition(":")
    proxy = FaultProxy(host or "127.0.0.1", int(port))
    data = await asyncio.start_server(proxy.handle, "127.0.0.1", listen_port)
    ctl = await asyncio.start_server(proxy.control, "127.0.0.1", control_port)
    data_port = data.sockets[0].getsockname()[1]
    ctl_port = ctl.sockets[0].getsockname()[1]
    print(f"ready {data_port} {ctl_port}", flush=True)  # noqa: T201
    async with data, ctl:
        await asyncio.gather(data.serve_forever(), ctl.serve_forever())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--target", required=True, help="HOST:PORT to forward to")
    parser.add_argument("--listen-port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--control-port", type=int, default=0, help="0 picks a free port")
    args = parser.parse_args(argv)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(args.target, args.listen_port, args.control_port))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Keep-alive connections to one upstream origin, at most `limit` open at once.

What aiohttp's TCPConnector(limit=…) did for us. A caller first takes one of `limit`
slots (first come, first served: a newcomer queues behind those already waiting), then an
idle connection (the most recently used, so a quiet period lets the others age out) or,
when none is idle, a new one. Every connection in use holds a slot, and a new one is
opened only when none is idle, so no more than `limit` are ever open. A connection the
server closed is forgotten the moment we learn of it, so it is never handed out; one idle
for longer than `KEEP_ALIVE` is closed instead of used.
"""

from __future__ import annotations

import asyncio
import socket
import ssl

import aiohappyeyeballs

from proxy.upstream.connection import Connection
from proxy.upstream.slots import Slots

# Like aiohttp's default: when a name has IPv6 and IPv4 addresses, start the next attempt
# after 250 ms instead of waiting for the first to time out (RFC 8305). aiohttp's own
# helper does it, as it does for aiohttp; the event loop's option is missing in uvloop.
_HAPPY_EYEBALLS_DELAY = 0.25
# aiohttp's keepalive_timeout: a connection idle longer is not trusted with a request. A
# server's or a NAT's idle timeout may have ended it without a word reaching us, and a
# POST written into a dead connection waits out the whole request timeout and then cannot
# be told apart from one that ran.
KEEP_ALIVE = 15.0


class Pool:
    def __init__(
        self, host: str, port: int, tls: ssl.SSLContext | None, *, limit: int, connect_timeout: float
    ) -> None:
        self._loop = asyncio.get_running_loop()
        self._host, self._port, self._tls = host, port, tls
        self._connect_timeout = connect_timeout
        self._slots = Slots(limit)
        self._idle: list[Connection] = []  # most recently used last
        self._open: set[Connection] = set()

    def time(self) -> float:
        return self._loop.time()

    def take(self, now: float) -> Connection | None:
        """A slot and an idle connection if both are to be had without waiting (the common
        case, no coroutine needed); else None, and nothing is held."""
        if not self._slots.free():
            return None
        connection = self._idle_connection(now)
        if connection is not None:
            self._slots.take_now()
        return connection

    async def acquire(self, deadline: float) -> Connection:
        """A slot and a connection, idle or new, before `deadline` (loop time; TimeoutError
        after it)."""
        await self._slots.take(deadline)
        try:
            return self._idle_connection(self._loop.time()) or await self._connect(deadline)
        except BaseException:
            self._slots.give_back()
            raise

    def release(self, connection: Connection) -> None:
        """Hand back a connection whose exchange completed, and its slot."""
        if connection.reusable:
            connection.idle_since = self._loop.time()
            self._idle.append(connection)
        else:
            connection.close()
        self._slots.give_back()

    def discard(self, connection: Connection) -> None:
        """Hand back the slot of a connection whose exchange failed, timed out or was
        cancelled: whatever state it is in, it carries nothing more."""
        connection.abort()
        self._slots.give_back()

    async def aclose(self) -> None:
        """Close every connection, in use or not, and wait (at most a connect timeout) for
        them to be gone, so none outlives the event loop."""
        connections = list(self._open)
        for connection in connections:
            connection.close() if connection in self._idle else connection.abort("TransportClosed")
        if connections:
            await asyncio.wait([connection.lost for connection in connections], timeout=self._connect_timeout)

    def _idle_connection(self, now: float) -> Connection | None:
        if not self._idle:
            return None
        connection = self._idle.pop()
        if now - connection.idle_since < KEEP_ALIVE:
            return connection
        for stale in [connection, *self._idle]:  # the others have been idle even longer
            stale.close()
        return None

    async def _connect(self, deadline: float) -> Connection:
        async with asyncio.timeout_at(min(deadline, self._loop.time() + self._connect_timeout)):
            addresses = await self._loop.getaddrinfo(self._host, self._port, type=socket.SOCK_STREAM)
            sock = await aiohappyeyeballs.start_connection(addresses, happy_eyeballs_delay=_HAPPY_EYEBALLS_DELAY)
            try:
                _, connection = await self._loop.create_connection(
                    lambda: Connection(self._loop, self._forget),
                    sock=sock,
                    ssl=self._tls,
                    server_hostname=self._host if self._tls else None,
                )
            except BaseException:  # the TLS handshake failed or was cut short
                sock.close()
                raise
        if connection.closed:  # lost before we got to it
            raise ConnectionResetError
        self._open.add(connection)
        return connection

    def _forget(self, connection: Connection) -> None:
        """Called once per connection, when it closes for whatever reason."""
        self._open.discard(connection)
        if connection in self._idle:
            self._idle.remove(connection)

"""Keep-alive connections to one upstream origin, at most `limit` open at once.

What aiohttp's TCPConnector(limit=…) did for us: a caller takes an idle connection (the
most recently used, so a quiet period lets the others time out at the server), opens a new
one while under the limit, or else waits until one is handed back or closed. A connection
the server closed is forgotten the moment we learn of it, so it is never handed out; one
idle for longer than `KEEP_ALIVE` is closed instead of used.
"""

from __future__ import annotations

import asyncio
import socket
import ssl
from collections import deque

import aiohappyeyeballs

from proxy.upstream.connection import Connection

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
        self._limit = limit
        self._connect_timeout = connect_timeout
        self._idle: list[Connection] = []
        self._open: set[Connection] = set()
        self._connecting = 0
        self._waiters: deque[asyncio.Future[None]] = deque()

    def time(self) -> float:
        return self._loop.time()

    def idle(self, now: float) -> Connection | None:
        """An idle connection, without waiting (the common case)."""
        if not self._idle:
            return None
        connection = self._idle.pop()
        if now - connection.idle_since < KEEP_ALIVE:
            return connection
        for stale in [connection, *self._idle]:  # the others have been idle even longer
            stale.close()
        return None

    async def acquire(self, deadline: float) -> Connection:
        """A connection for one exchange: idle, new, or the next one freed before `deadline`
        (loop time; TimeoutError after it)."""
        while True:
            if connection := self.idle(self._loop.time()):
                return connection
            if len(self._open) + self._connecting < self._limit:
                return await self._connect(deadline)
            await self._wait(deadline)

    def release(self, connection: Connection) -> None:
        """Hand back a connection whose exchange completed."""
        if connection.reusable:
            connection.idle_since = self._loop.time()
            self._idle.append(connection)
            self._wake()
        else:
            connection.close()  # `_forget` wakes a waiter

    async def aclose(self) -> None:
        """Close every connection, in use or not, and wait (at most a connect timeout) for
        them to be gone, so none outlives the event loop."""
        connections = list(self._open)
        for connection in connections:
            connection.close() if connection in self._idle else connection.abort("TransportClosed")
        if connections:
            await asyncio.wait([connection.lost for connection in connections], timeout=self._connect_timeout)

    async def _connect(self, deadline: float) -> Connection:
        self._connecting += 1
        try:
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
        except BaseException:
            self._connecting -= 1
            self._wake()  # the slot this attempt held is free again
            raise
        self._connecting -= 1
        self._open.add(connection)
        return connection

    async def _wait(self, deadline: float) -> None:
        waiter = self._loop.create_future()
        self._waiters.append(waiter)
        try:
            async with asyncio.timeout_at(deadline):
                await waiter
        except BaseException:
            if waiter.done() and not waiter.cancelled():  # woken, but leaving: pass it on
                self._wake()
            elif waiter in self._waiters:
                self._waiters.remove(waiter)
            raise

    def _wake(self) -> None:
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)
                return

    def _forget(self, connection: Connection) -> None:
        """Called once per connection, when it closes for whatever reason."""
        self._open.discard(connection)
        if connection in self._idle:
            self._idle.remove(connection)
        self._wake()

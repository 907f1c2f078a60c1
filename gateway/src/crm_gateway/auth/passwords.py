"""Password hashes (argon2id), computed off the event loop with bounded concurrency."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from typing import TypeVar

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from crm_gateway.problems import RetryLater

T = TypeVar("T")
_hasher = PasswordHasher()


@functools.cache
def _dummy_hash() -> str:
    # Verified when the username is unknown, so a wrong username costs as long as a wrong password.
    return _hasher.hash("not-a-real-password")


def _verify(stored_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(stored_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


class LoginBusy(RetryLater):
    """More logins are waiting for a password check than the gateway lets queue."""

    code = "login_busy"


class PasswordHashing:
    """argon2id off the event loop, at most `workers` hashes at once.

    A hash takes ~0.1 s of CPU. Run on the default executor, a login flood took every worker
    thread (and the cores) from the rest of the gateway; here a few threads of its own do the
    work and logins queue for them, at most `queue_limit` deep, so other requests keep a core.
    """

    def __init__(self, *, workers: int, queue_limit: int) -> None:
        self._executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="argon2")
        self._slots = asyncio.Semaphore(workers)
        self._queue_limit = queue_limit
        self._waiting = 0
        self._running = 0
        self.most_at_once = 0  # the most verifications seen running together (tests, diagnosis)
        self._executor.submit(_dummy_hash)  # ready before the first unknown username arrives

    @property
    def running(self) -> int:
        """Hashes being computed now."""
        return self._running

    @asynccontextmanager
    async def turn(self) -> AsyncIterator[None]:
        """One login's turn at a password check; the caller verifies inside it."""
        if self._waiting >= self._queue_limit:
            raise LoginBusy("too many logins at once, retry shortly / 登录请求过多，请稍后重试", retry_after=1)
        self._waiting += 1
        try:
            await self._slots.acquire()
        finally:
            self._waiting -= 1
        try:
            yield
        finally:
            self._slots.release()

    async def _run(self, work: Callable[[], T]) -> T:
        self._running += 1
        self.most_at_once = max(self.most_at_once, self._running)
        try:
            return await asyncio.get_running_loop().run_in_executor(self._executor, work)
        finally:
            self._running -= 1

    async def hash(self, password: str) -> str:
        return await self._run(lambda: _hasher.hash(password))

    async def matches(self, stored_hash: str | None, password: str) -> bool:
        """Whether `password` is the one hashed; with no hash (unknown user) a dummy is checked,
        so the answer takes as long either way."""
        return await self._run(lambda: _verify(stored_hash or _dummy_hash(), password)) and stored_hash is not None

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)

"""One exception tree for orderflow, and the exit codes cron sees.

::

    OrderflowError                 exit INTERNAL unless a subclass says otherwise
    ├── ConfigError                bad or missing configuration           -> CONFIG
    ├── InputError                 a file or record we cannot accept      -> INPUT_REFUSED
    ├── RemoteError                a vendor, carrier, storefront or mail server
    │   ├── RemoteUnavailable      down, timed out, refused, 5xx, 429      -> REMOTE_UNAVAILABLE
    │   │   └── OutcomeUnknown     sent, then no answer: look it up before any re-send
    │   └── RemoteRejected         it answered and said no (4xx, auth)     -> REMOTE_REJECTED
    ├── PartialFailure             some of the work failed, the rest is done -> PARTIAL_FAILURE
    └── LockHeld                   another run of the same command is busy -> LOCK_HELD

Foreign errors (httpx, paramiko, SQLAlchemy, OSError) are translated into this tree at the module that
talks to the outside world, so the CLI needs to know only these classes.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass


class ExitCode(enum.IntEnum):
    """What a finished command tells cron. Distinct so a wrapper script can tell problems apart."""

    OK = 0
    INTERNAL = 1
    USAGE = 2  # click's own code for a bad command line
    CONFIG = 3
    INPUT_REFUSED = 4
    REMOTE_UNAVAILABLE = 5
    PARTIAL_FAILURE = 6
    LOCK_HELD = 7
    REMOTE_REJECTED = 8  # a remote refused us: trying again changes nothing until the config or request is fixed


class OrderflowError(Exception):
    """Base of every error orderflow raises on purpose."""

    exit_code: ExitCode = ExitCode.INTERNAL


class ConfigError(OrderflowError):
    """The configuration is missing, malformed or names something that does not exist."""

    exit_code = ExitCode.CONFIG


@dataclass(frozen=True)
class Refusal:
    """One refused record: where it was and why, so a person can find and fix it."""

    file: str
    line: int | None
    field: str | None
    reason: str

    def __str__(self) -> str:
        where = self.file if self.line is None else f"{self.file}:{self.line}"
        return f"{where}: {self.field}: {self.reason}" if self.field else f"{where}: {self.reason}"


def refusal_lines(refusals: list[Refusal], limit: int) -> list[str]:
    """One line per refusal, at most ``limit`` for each file, then one line counting the rest of that file's.

    A file of a million bad rows is twenty lines and a count, not a million lines on cron's stderr.
    """
    shown: dict[str, int] = {}
    lines: list[str] = []
    for refusal in refusals:
        shown[refusal.file] = shown.get(refusal.file, 0) + 1
        if shown[refusal.file] <= limit:
            lines.append(str(refusal))
    lines += [f"{file}: and {count - limit} more refused" for file, count in shown.items() if count > limit]
    return lines


class InputError(OrderflowError):
    """Input we cannot accept. Carries the place (file, line, field) when it is known."""

    exit_code = ExitCode.INPUT_REFUSED

    def __init__(self, reason: str, *, file: str | None = None, line: int | None = None,
                 field: str | None = None) -> None:
        self.refusal = Refusal(file=file or "<input>", line=line, field=field, reason=reason)
        super().__init__(str(self.refusal) if file else reason)


class RemoteError(OrderflowError):
    """A remote party (vendor, carrier, storefront, mail or webhook server) failed us."""

    exit_code = ExitCode.REMOTE_UNAVAILABLE

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class RemoteUnavailable(RemoteError):
    """Transient: unreachable, timed out, 5xx or rate limited. Worth trying again later."""


class OutcomeUnknown(RemoteUnavailable):
    """A request may or may not have taken effect (it timed out after being sent): look before re-sending."""


class RemoteRejected(RemoteError):
    """Final: the remote answered and refused (4xx, bad credentials, unknown host key).

    Its own exit code, apart from :class:`RemoteUnavailable`: waiting does not help, a person must fix the
    credentials, the configuration or the request, so cron's wrapper and a monitor can page instead of retrying.
    """

    exit_code = ExitCode.REMOTE_REJECTED


class PartialFailure(OrderflowError):
    """Some of the work failed and was recorded; the rest was done."""

    exit_code = ExitCode.PARTIAL_FAILURE


class LockHeld(OrderflowError):
    """Another run of the same command holds its lock; this run did nothing."""

    exit_code = ExitCode.LOCK_HELD

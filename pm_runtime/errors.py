"""Errors a user can act on: printed as one line by the entry points, no traceback."""

from __future__ import annotations

from collections.abc import Iterator


class UserFacingError(Exception):
    """A problem the user fixes (credentials, configuration, access): one clear line."""

    exit_code = 1


class ConfigurationError(UserFacingError):
    """A missing or bad configuration value; the message names the key and where to set it."""


class DownloadError(Exception):
    """One attachment could not be downloaded intact; the message names it (`pm_runtime.download`
    raises it; here so that the uploader can catch it without loading `requests`)."""


def exception_chain(
    exc: BaseException | None, attributes: tuple[str, ...] = ()
) -> Iterator[BaseException]:
    """`exc` and every exception it wraps, depth first, each once however the links loop:
    `__cause__`, `__context__`, exceptions among its `args`, and the named `attributes`
    (dlt's `job_exception`, urllib3's `reason`...)."""
    seen: set[int] = set()
    stack = [exc]
    while stack:
        e = stack.pop()
        if e is None or id(e) in seen:
            continue
        seen.add(id(e))
        yield e
        stack.extend([e.__cause__, e.__context__])
        stack.extend(a for a in getattr(e, "args", ()) if isinstance(a, BaseException))
        for name in attributes:
            inner = getattr(e, name, None)
            if isinstance(inner, BaseException):
                stack.append(inner)


# dlt keeps the failing job's exception on some wrappers
_DLT_WRAPPED = ("exception", "job_exception", "original_exception")


def find_user_error(exc: BaseException | None) -> UserFacingError | None:
    """dlt wraps resource errors (PipelineStepFailed → ResourceExtractionError → ...): dig ours out."""
    chain = exception_chain(exc, _DLT_WRAPPED)
    return next((e for e in chain if isinstance(e, UserFacingError)), None)

"""Errors a user can act on: printed as one line by the entry points, no traceback."""

from __future__ import annotations


class UserFacingError(Exception):
    """A problem the user fixes (credentials, configuration, access): one clear line."""

    exit_code = 1


class ConfigurationError(UserFacingError):
    """A missing or bad configuration value; the message names the key and where to set it."""


class DownloadError(Exception):
    """One attachment could not be downloaded intact; the message names it (`pm_runtime.download`
    raises it; here so that the uploader can catch it without loading `requests`)."""


def find_user_error(exc: BaseException | None) -> UserFacingError | None:
    """dlt wraps resource errors (PipelineStepFailed → ResourceExtractionError → ...): dig ours out."""
    seen: set[int] = set()
    stack = [exc]
    while stack:
        e = stack.pop()
        if e is None or id(e) in seen:
            continue
        seen.add(id(e))
        if isinstance(e, UserFacingError):
            return e
        stack.extend([e.__cause__, e.__context__])
        stack.extend(a for a in getattr(e, "args", ()) if isinstance(a, BaseException))
        # dlt keeps the failing job's exception on some wrappers
        for attr in ("exception", "job_exception", "original_exception"):
            inner = getattr(e, attr, None)
            if isinstance(inner, BaseException):
                stack.append(inner)
    return None

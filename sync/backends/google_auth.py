"""Google credentials for the Sheets backend: where they come from and what they may do.

Only the `spreadsheets` scope is asked for: salesync reads and writes cells of a spreadsheet
that has been shared with it, and never lists, creates or deletes files (gspread's default
scopes include full Drive access, which the job does not need).

Credentials are found, in order:
1. the `credentials` argument (a google.auth Credentials object, a path, or JSON text);
2. `SALESYNC_GOOGLE_CREDENTIALS`: a path to a JSON key file, or the JSON itself;
3. `GOOGLE_APPLICATION_CREDENTIALS`: a path to a JSON key file.

The JSON is a service-account key (``"type": "service_account"``, from Google Cloud console →
IAM → Service accounts → Keys) or a user's OAuth credentials (``"type": "authorized_user"``,
with client_id, client_secret and refresh_token, as `gcloud auth application-default login`
writes them).

>>> scopes_for_spreadsheets()
('https://www.googleapis.com/auth/spreadsheets',)
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from sync.core.errors import ExtraMissing, SalesyncError

SCOPES = ("https://www.googleapis.com/auth/spreadsheets",)
ENV_VARS = ("SALESYNC_GOOGLE_CREDENTIALS", "GOOGLE_APPLICATION_CREDENTIALS")


class CredentialsMissing(SalesyncError):
    """No Google credentials were given or found in the environment."""


class CredentialsRejected(SalesyncError):
    """Google refused the credentials (revoked key, wrong file, expired refresh token)."""


def scopes_for_spreadsheets() -> tuple[str, ...]:
    return SCOPES


def load_credentials(credentials: Any = None, *, env: Mapping[str, str] | None = None) -> Any:
    """google.auth credentials with the spreadsheets scope, from the argument or environment."""
    if credentials is not None and not isinstance(credentials, str | Path | dict):
        return credentials  # already a google.auth Credentials object
    env = os.environ if env is None else env
    origin = "the credentials argument"
    if credentials is None:
        for name in ENV_VARS:
            if env.get(name, "").strip():
                credentials, origin = env[name].strip(), name
                break
        else:
            raise CredentialsMissing(
                "no Google credentials: set SALESYNC_GOOGLE_CREDENTIALS to a service-account "
                "key file (or its JSON); see the README's Google Sheets section"
            )
    info = credentials if isinstance(credentials, dict) else _read_json(credentials, origin)
    return credentials_from_info(info, origin)


def _read_json(source: str | Path, origin: str) -> dict[str, Any]:
    text = str(source)
    if not text.lstrip().startswith("{"):
        path = Path(text).expanduser()
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise CredentialsMissing(f"{origin}: no such credentials file: {path}") from None
        except OSError as error:
            raise CredentialsMissing(f"{origin}: cannot read {path}: {error.strerror}") from error
        origin = str(path)
    try:
        info = json.loads(text)
    except json.JSONDecodeError as error:
        raise CredentialsRejected(f"{origin}: not a JSON credentials file ({error.msg})") from error
    if not isinstance(info, dict):
        raise CredentialsRejected(f"{origin}: not a JSON credentials file")
    return info


def credentials_from_info(info: dict[str, Any], origin: str = "credentials") -> Any:
    try:
        from google.oauth2 import credentials as user_credentials
        from google.oauth2 import service_account
    except ImportError:
        raise ExtraMissing("google-auth", "google") from None
    kind = info.get("type")
    try:
        if kind == "service_account":
            return service_account.Credentials.from_service_account_info(info, scopes=SCOPES)
        if kind == "authorized_user":
            return user_credentials.Credentials.from_authorized_user_info(info, scopes=SCOPES)
    except (ValueError, KeyError) as error:
        raise CredentialsRejected(f"{origin}: incomplete {kind} credentials ({error})") from error
    raise CredentialsRejected(
        f"{origin}: unsupported credentials type {kind!r}; use a service-account key "
        "(service_account) or user OAuth credentials (authorized_user)"
    )


def principal(credentials: Any) -> str:
    """Who the sheet must be shared with: the service account's email, when there is one."""
    return str(
        getattr(credentials, "service_account_email", None)
        or getattr(credentials, "account", None)
        or "the Google account of these credentials"
    )

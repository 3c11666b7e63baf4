"""Who may sign in to the chat and at which access level: the single login of the settings
(MINUTES_AUTH_USER / MINUTES_AUTH_PASSWORD) and the users file, and gradio's `auth` check
that compares password hashes in constant time.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

from ...core.access import OFFICER, PUBLIC
from ...core.config import Settings
from ...core.errors import MinutesError


def load_users(settings: Settings) -> dict[str, dict]:
    """Logins: MINUTES_AUTH_USER / MINUTES_AUTH_PASSWORD (level MINUTES_AUTH_LEVEL), and the
    users file, {"users": {"NAME": {"password_sha256": "HEX", "level": "public" | "officer"}}}
    (an API client signs in the same way). -> {name: {"sha256", "level"}}."""
    import json

    users: dict[str, dict] = {}
    if settings.chat.users_file:
        try:
            data = json.loads(Path(settings.chat.users_file).read_text(encoding="utf-8"))
            listed = data["users"].items()
        except (OSError, ValueError, KeyError, AttributeError) as exc:
            raise MinutesError(f"cannot read the users file {settings.chat.users_file}: {exc}") from exc
        for name, entry in listed:
            level = str(entry.get("level", PUBLIC))
            digest = str(entry.get("password_sha256", "")).lower()
            if level not in (PUBLIC, OFFICER) or not re.fullmatch(r"[0-9a-f]{64}", digest):
                raise MinutesError(f"the users file {settings.chat.users_file}: user {name!r} needs a password_sha256 "
                                   "(64 hex digits) and a level of public or officer")
            users[str(name)] = {"sha256": digest, "level": level}
    if settings.chat.auth_user and settings.chat.auth_password:
        level = settings.chat.auth_level if settings.chat.auth_level in (PUBLIC, OFFICER) else PUBLIC
        users[settings.chat.auth_user] = {"sha256": hashlib.sha256(settings.chat.auth_password.encode()).hexdigest(),
                                     "level": level}
    return users


def user_levels(settings: Settings) -> dict[str, str]:
    return {name: entry["level"] for name, entry in load_users(settings).items()}


def login_checker(settings: Settings):
    """gradio's `auth`: a function of (name, password), or None when no login is configured."""
    import hmac

    users = load_users(settings)
    if not users:
        return None

    def check(name: str, password: str) -> bool:
        entry = users.get(name)
        given = hashlib.sha256((password or "").encode()).hexdigest()
        return entry is not None and hmac.compare_digest(given, entry["sha256"])

    return check

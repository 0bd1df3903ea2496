"""The backup password rules the vendor documents.

A backup password is 6 to 255 characters, each an ASCII letter or digit or one of
``! " # $ % & ' ( ) * + , - . / : ; < = > ? @ [ \\ ] ^ _ ` { | } ~`` -- exactly the
printable ASCII range 0x21-0x7E: no space, nothing outside ASCII.
"""

from __future__ import annotations

import string

from emulator.errors import InvalidValue

MIN_LENGTH = 6
MAX_LENGTH = 255
SYMBOLS = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"
ALLOWED_CHARACTERS = frozenset(string.ascii_letters + string.digits + SYMBOLS)


def password_problem(password: object) -> str | None:
    """Say what is wrong with a backup password, or None when it is valid.

    The answer never quotes the password itself.
    """
    if not isinstance(password, str):
        return "the password must be a string"

    if not MIN_LENGTH <= len(password) <= MAX_LENGTH:
        return f"the password must be {MIN_LENGTH} to {MAX_LENGTH} characters long"

    if not ALLOWED_CHARACTERS.issuperset(password):
        return "the password holds a character that is not allowed"

    return None


def check_backup_password(password: object) -> str:
    """Return the password when it follows the documented rules.

    Raises:
        InvalidValue: the password is not a string, has the wrong length or holds a
            character outside the documented set.
    """
    problem = password_problem(password)
    if problem is not None:
        raise InvalidValue(parameter="password", reason=problem)

    assert isinstance(password, str)

    return password

"""Short codes people read out over the phone: Crockford base32, forgiving of case, spaces and look-alikes."""

import secrets

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_LOOKALIKES = str.maketrans({"O": "0", "I": "1", "L": "1"})


def new_reference() -> str:
    # One draw from the OS, not eight: 256 is a multiple of 32, so every character stays equally likely.
    code = "".join(ALPHABET[byte % len(ALPHABET)] for byte in secrets.token_bytes(8))
    return f"{code[:4]}-{code[4:]}"


def normalise_reference(typed: str) -> str:
    """'abcd 2345', 'ABCD2345', 'abcd-z345' all become 'ABCD-2345' style; '' when it can't be a code."""
    cleaned = "".join(ch for ch in typed.upper() if ch.isalnum()).translate(_LOOKALIKES)
    if len(cleaned) != 8 or any(ch not in ALPHABET for ch in cleaned):
        return ""
    return f"{cleaned[:4]}-{cleaned[4:]}"

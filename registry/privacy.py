"""Masks for what must not reach a log or a screen in full: phone numbers and e-mail
addresses (NIKs are masked by registry.nik.mask_nik, receipt codes by
Card.masked_receipt_code)."""


def mask_phone(phone: str) -> str:
    """+6281234500001 -> +62812*****001: the operator's prefix and the last three
    digits, enough to tell two numbers apart in a log, not to call one."""
    phone = str(phone or "")
    if len(phone) < 10:
        return "*" * len(phone)
    return phone[:6] + "*" * (len(phone) - 9) + phone[-3:]


def mask_email(address: str) -> str:
    """budi@example.com -> b***@example.com."""
    local, at, domain = str(address or "").rpartition("@")
    if not at:
        return mask_phone(address)
    return f"{local[:1]}***@{domain}"


def mask_address(address: str) -> str:
    """A phone number or an e-mail address, masked."""
    return mask_email(address) if "@" in str(address or "") else mask_phone(address)

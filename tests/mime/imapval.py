# SPDX-License-Identifier: MIT
"""Just enough of an IMAP response parser (RFC 3501 §9) for the MIME
differential test: split a FETCH answer into items, walk BODYSTRUCTURE,
turn an nstring into bytes."""


class ParseError(Exception):
    pass


def _skip_value(buf, i):
    """Returns the index just past the IMAP value that starts at buf[i]."""
    if i >= len(buf):
        raise ParseError("value expected at end")
    c = buf[i:i + 1]
    if c == b"(":
        i += 1
        while True:
            while buf[i:i + 1] == b" ":
                i += 1
            if buf[i:i + 1] == b")":
                return i + 1
            i = _skip_value(buf, i)
    if c == b'"':
        i += 1
        while buf[i:i + 1] != b'"':
            if i >= len(buf):
                raise ParseError("unterminated quoted string")
            i += 2 if buf[i:i + 1] == b"\\" else 1
        return i + 1
    if c == b"{" or buf[i:i + 2] == b"~{":
        j = buf.index(b"}", i)
        n = int(buf[i + (2 if c == b"~" else 1):j].rstrip(b"+"))
        if buf[j + 1:j + 3] != b"\r\n":
            raise ParseError("literal without CRLF")
        return j + 3 + n
    j = i
    depth = 0
    while j < len(buf):
        ch = buf[j:j + 1]
        if ch == b"[":
            depth += 1
        elif ch == b"]":
            depth -= 1
        elif ch in (b" ", b")", b"(") and depth == 0:
            if ch == b"(" and j > i and buf[j - 1:j] == b"]":
                pass
            break
        j += 1
    if j == i:
        raise ParseError("empty atom at %d" % i)
    return j


def fetch_items(raw):
    """'3 (NAME value NAME value)' -> list of (name, raw value bytes)."""
    sp = raw.index(b" (")
    i = sp + 2
    items = []
    while raw[i:i + 1] != b")":
        j = i
        depth = 0
        while True:
            ch = raw[j:j + 1]
            if ch == b"[":
                depth += 1
            elif ch == b"]":
                depth -= 1
            elif ch == b" " and depth == 0:
                break
            j += 1
        name = raw[i:j]
        k = _skip_value(raw, j + 1)
        items.append((name.decode("latin-1"), raw[j + 1:k]))
        i = k
        if raw[i:i + 1] == b" ":
            i += 1
    return items


def nstring(v):
    """IMAP nstring text -> bytes, or None for NIL."""
    if v.upper() == b"NIL":
        return None
    if v[:1] == b'"':
        out = bytearray()
        i = 1
        while v[i:i + 1] != b'"':
            if v[i:i + 1] == b"\\":
                i += 1
            out += v[i:i + 1]
            i += 1
        return bytes(out)
    if v[:1] in (b"{", b"~"):
        j = v.index(b"}")
        return v[j + 3:]
    return v


def parse(v):
    """Parses one IMAP value into Python: list, bytes, or None."""
    val, end = _parse(v, 0)
    return val


def _parse(v, i):
    if v[i:i + 1] == b"(":
        out = []
        i += 1
        while True:
            while v[i:i + 1] == b" ":
                i += 1
            if v[i:i + 1] == b")":
                return out, i + 1
            item, i = _parse(v, i)
            out.append(item)
    j = _skip_value(v, i)
    return nstring(v[i:j]), j


def body_parts(bs, prefix=""):
    """Yields (section path, kind) for every part of a parsed
    BODYSTRUCTURE; kind is 'multipart', 'message' or 'leaf'."""
    if isinstance(bs[0], list):
        n = 0
        for child in bs:
            if not isinstance(child, list):
                break
            n += 1
            path = prefix + str(n) if not prefix else prefix + "." + str(n)
            yield from _child(child, path)
    else:
        yield from _child(bs, prefix + "1" if not prefix else prefix + ".1",
                          top=True)


def _child(bs, path, top=False):
    if isinstance(bs[0], list):
        yield (path, "multipart")
        yield from body_parts(bs, path)
        return
    t = (bs[0] or b"").lower()
    s = (bs[1] or b"").lower()
    if t == b"message" and s == b"rfc822" and len(bs) > 8 and \
            isinstance(bs[8], list):
        yield (path, "message")
        inner = bs[8]
        if isinstance(inner[0], list):
            yield from body_parts(inner, path)
        else:
            yield from _child(inner, path + ".1")
    else:
        yield (path, "leaf")

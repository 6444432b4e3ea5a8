"""The API's JSON parser: DRF's, refusing what DRF's lets through to a 500.

Python's json module recurses once per level of nesting, so `[` nested a few thousand
deep raises RecursionError (not ValueError, which DRF turns into a 400); a float such as
`1e999` parses to infinity, which no field of the contract can hold. Both are refused
here, for every view, before a serializer sees the data.
"""

import codecs
import math

from django.conf import settings
from django.utils.translation import gettext as _
from rest_framework import parsers
from rest_framework.exceptions import ParseError
from rest_framework.utils import json

# The contract's deepest body is an object holding a list of objects (three levels);
# anything far deeper is not a request of this API.
MAX_DEPTH = 10


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"number out of range: {text[:20]}")
    return value


def json_depth(data) -> int:
    """How deeply `data` nests lists and objects (a scalar is 0), without recursion."""
    deepest = 0
    pending = [(data, 1)]
    while pending:
        node, depth = pending.pop()
        if isinstance(node, dict):
            children = node.values()
        elif isinstance(node, list):
            children = node
        else:
            continue
        deepest = max(deepest, depth)
        if deepest > MAX_DEPTH:
            break
        pending.extend((child, depth + 1) for child in children)
    return deepest


class JSONParser(parsers.JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        encoding = (parser_context or {}).get("encoding", settings.DEFAULT_CHARSET)
        try:
            data = json.load(codecs.getreader(encoding)(stream),
                             parse_constant=json.strict_constant, parse_float=_finite_float)
        except RecursionError:
            raise ParseError(_("The JSON body is nested too deeply."), "json_too_deep") from None
        except ValueError as exc:
            # UnicodeDecodeError too: a body that is not UTF-8.
            raise ParseError(_("The body is not valid JSON: %(error)s") % {"error": exc},
                             "parse_error") from None
        if json_depth(data) > MAX_DEPTH:
            raise ParseError(_("The JSON body is nested too deeply."), "json_too_deep")
        return data

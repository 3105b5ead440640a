#!/usr/bin/env python3
"""Writes the `response` target's seeds into fuzz/seeds/response/.

The target's input is an `Input` decoded by `arbitrary` 1.5, so a seed is those bytes, not text.
This encodes each seed as `arbitrary` decodes it: integers little-endian; a bool one byte (odd is
true); an `Option` a bool, then the value; a `Vec` (and the last field's `Vec`) a `true` byte before
each element and a `false` byte after the last; a `String` its bytes, with its length in one byte
taken from the end of the input (the first string's length last), while the input is at most 256
bytes long. Check a seed with
`RUST_LIBFUZZER_DEBUG_PATH=/dev/stdout <fuzz target dir>/release/response <seed>`.

Usage: python3 fuzz/seeds/response.py
"""

import os
import struct

HEADERS = [
    "content-type",
    "retry-after",
    "x-retry-after",
    "x-ratelimit-limit",
    "x-ratelimit-remaining",
    "x-ratelimit-reset",
    "location",
]
METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"]
JSON = ("content-type", "application/json")


def encode(method, now, list_, max_retries, max_pages, answers):
    front = bytearray([METHODS.index(method)])
    front += struct.pack("<Q", now)
    front += bytes([int(list_), max_retries, max_pages])
    lengths = []
    for answer in answers:
        front.append(1)
        front += struct.pack("<H", answer.get("status", 200))
        for name, value in answer.get("headers", []):
            value = value.encode()
            front += bytes([1, HEADERS.index(name)]) + value
            lengths.append(len(value))
        front.append(0)
        for byte in answer.get("body", b""):
            front += bytes([1, byte])
        front.append(0)
        failure = answer.get("failure")
        front += bytes([0]) if failure is None else bytes([1, failure])
    front.append(0)
    data = bytes(front) + bytes(reversed(lengths))
    assert len(data) <= 256, "one-byte string lengths need an input of at most 256 bytes"
    return data


# failure: 0 timeout, 1 connection-reset, 2 connection-refused, 3 body-too-large, 4 dns.
SEEDS = {
    "ok-json": ("GET", 0, False, 2, 1, [
        {"status": 200, "headers": [JSON], "body": b'{"name":"alpine"}'},
    ]),
    "rate-limited-then-ok": ("GET", 1700000000, False, 2, 1, [
        {"status": 429, "headers": [("retry-after", "3"), ("x-ratelimit-remaining", "0")]},
        {"status": 200, "headers": [JSON], "body": b"{}"},
    ]),
    "x-retry-after-date": ("GET", 1700000000, False, 1, 1, [
        {"status": 429, "headers": [("x-retry-after", "1700000060")]},
        {"status": 200, "headers": [JSON], "body": b"{}"},
    ]),
    "unavailable-then-ok": ("GET", 0, False, 3, 1, [
        {"status": 503},
        {"failure": 0},
        {"status": 200, "headers": [JSON], "body": b"{}"},
    ]),
    "pages": ("GET", 0, True, 0, 3, [
        {"status": 200, "headers": [JSON],
         "body": b'{"count":3,"next":"https://hub.docker.com/v2/x?page=2","results":[{}]}'},
    ]),
    "next-elsewhere": ("GET", 0, True, 0, 3, [
        {"status": 200, "headers": [JSON],
         "body": b'{"next":"https://evil.example/v2/x","results":[]}'},
    ]),
    "unauthorized": ("POST", 0, False, 1, 1, [
        {"status": 401, "headers": [JSON], "body": b'{"message":"bad token"}'},
    ]),
    "redirect": ("DELETE", 0, False, 0, 1, [
        {"status": 302, "headers": [("location", "https://evil.example/")]},
    ]),
    "not-json": ("HEAD", 0, False, 0, 1, [
        {"status": 200, "headers": [JSON], "body": b'{"a":'},
        {"status": 204},
    ]),
}

if __name__ == "__main__":
    out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "response")
    os.makedirs(out, exist_ok=True)
    for name, args in SEEDS.items():
        with open(os.path.join(out, name), "wb") as f:
            f.write(encode(*args))

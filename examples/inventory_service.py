"""A small inventory service, written the way much pre-3.13 code was.

It works with the GIL. On free-threaded Python (3.13t, 3.14t) its request
handlers run truly in parallel, and several pieces of shared state race.
Run `ftlint examples/` to see them.
"""

import threading
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor

_price_cache = {}
_requests_by_sku = defaultdict(int)
_audit_log = []
_total_requests = 0
_db = None
_db_lock = threading.Lock()


class Database:
    def __init__(self):
        self.connections = []  # opened on first use, closed at exit

    def price(self, sku):
        return len(sku) * 10


def database():
    global _db
    if _db is None:
        _db = Database()  # two threads can each build a Database
    return _db


def price(sku):
    global _total_requests
    _total_requests += 1  # lost updates under contention
    _requests_by_sku[sku] += 1
    if sku not in _price_cache:
        _price_cache[sku] = database().price(sku)
    _audit_log.append(("price", sku))
    return _price_cache[sku]


def audit_report(sku):
    return [entry for entry in _audit_log if entry[1] == sku]


def forget(entry):
    _audit_log.remove(entry)


def request_report():
    # A dict that gains keys while this runs: "changed size during iteration".
    return {sku: count for sku, count in _requests_by_sku.items()}


class Warehouse:
    reserved = {}  # one dict shared by every Warehouse

    def reserve(self, sku, quantity):
        self.reserved[sku] = self.reserved.get(sku, 0) + quantity


def restock(sku, pending=[]):
    pending.append(sku)  # the default list is shared by all calls
    return len(pending)


def handle(sku):
    handle.calls += 1
    return price(sku)


handle.calls = 0


def safe_price(sku):
    """The guarded version: ftlint stays quiet here."""
    with _db_lock:
        if sku not in _price_cache:
            _price_cache[sku] = Database().price(sku)
        return _price_cache[sku]


if __name__ == "__main__":
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(handle, ["apple", "pear", "plum"] * 1000))
    print(handle.calls, _total_requests)

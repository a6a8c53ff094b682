"""An on-disk cache of the loaded and compiled rule base, so that a new process (``mtus
evaluate`` of one case, a worker of a batch) does not parse and close the Turtle again.

The cache file is named by a key made of the rule base's digest (every file of ontology/, kb/
and shapes/, so that editing a rule, shape or kb file invalidates it), the source of every
module of the ``reasoner`` package (any of them may shape what is cached: a helper of the
shapes compiler, a namespace, a query it imports), and the versions of Python, rdflib,
pySHACL and pyoxigraph. It is written
atomically; a file that cannot be read is ignored and rebuilt. ``MTUS_CACHE_DIR`` moves the
cache (default: ``$XDG_CACHE_HOME/mtus-reasoner`` or ``~/.cache/mtus-reasoner``);
``MTUS_NO_CACHE=1`` turns it off.

A pickle runs code when it is loaded, so a cache file is only loaded when it carries an
HMAC-SHA256 of its contents made with this user's secret key, a random key kept outside the
cache folder (``$XDG_CONFIG_HOME/mtus-reasoner/cache.key``, mode 0600; ``MTUS_CACHE_KEY_FILE``
moves it): whoever can write the cache folder but not read the key cannot have code run by
planting a file. A file whose signature does not match is ignored and rebuilt.

rdflib's prepared queries (the derivation rules) hold parser objects that the standard pickler
cannot rebuild (an OrderedDict subclass whose constructor needs its name, and one lambda); the
pickler here writes them by their parts.

What makes a cold start (``mtus evaluate`` of one case) fast: the large parts of a rule base
(its graphs, the rules' algebra) are pickles of their own inside the file, read when first used
(``rulebase.DEFERRED``: the fast path reads the kb and the closure, never the shapes, the
ontology or the rules' algebra, so rdflib's SPARQL parser is not even imported); rdflib terms
are written as they are and read back without rdflib parsing their lexical forms again (most of
the time of reading a graph before); and each distinct term is written once, so that reading a
graph back makes each term once, not once per triple.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import hmac
import importlib.util
import io
import os
import pickle
import secrets
import stat
import sys
import tempfile
from collections import OrderedDict
from collections.abc import Callable
from decimal import Decimal
from functools import cache
from pathlib import Path
from types import FunctionType, MethodType
from typing import TYPE_CHECKING, Any

from rdflib.term import BNode, Literal, URIRef

if TYPE_CHECKING:
    from rdflib.plugins.sparql.parserutils import CompValue

_FORMAT = 4
#: bytes of the HMAC-SHA256 signature that starts every cache file
_SIGNATURE = 32
#: The package whose source is part of every key.
PACKAGE = Path(__file__).resolve().parent
#: Python values of literals written as they are (rdflib's own pickling parses the lexical form
#: again, which is most of the time of reading a graph back).
_PLAIN = (str, int, float, bool, Decimal, dt.date, dt.datetime, dt.time, dt.timedelta, bytes, type(None))


@cache
def _lambdas() -> dict[int, str]:
    """rdflib evaluation functions that are lambdas, by a stable name (pickle cannot name a lambda)."""
    from rdflib.plugins.sparql import operators
    from rdflib.plugins.sparql.parserutils import CompValue

    return {id(value._evalfn.__func__): name for name, value in vars(operators).items()
            if isinstance(value, CompValue) and isinstance(getattr(value, "_evalfn", None), MethodType)
            and value._evalfn.__func__.__name__ == "<lambda>"}


def _lambda(name: str) -> Callable[..., Any]:
    from rdflib.plugins.sparql import operators

    fn: Callable[..., Any] = getattr(operators, name)._evalfn.__func__
    return fn


def _rebuild(cls: type[CompValue], items: list[tuple[Any, Any]], state: dict[str, Any], evalfn: Any) -> CompValue:
    obj = cls.__new__(cls)
    OrderedDict.__init__(obj)
    for key, value in items:
        OrderedDict.__setitem__(obj, key, value)
    obj.__dict__.update(state)
    if evalfn is not None:
        obj._evalfn = MethodType(evalfn, obj)
    return obj


def _iri(value: str) -> URIRef:
    """A URIRef as it was written (checked when it was first made)."""
    return str.__new__(URIRef, value)


def _blank(value: str) -> BNode:
    return str.__new__(BNode, value)


def _literal(lexical: str, language: str | None, datatype: URIRef | None, value: Any, ill_typed: bool | None) -> Literal:
    """A Literal as it was: its lexical form, language, datatype and Python value."""
    obj = str.__new__(Literal, lexical)
    obj._language, obj._datatype, obj._value, obj._ill_typed = language, datatype, value, ill_typed
    return obj


class _Pickler(pickle._Pickler):
    """Writes each distinct RDF term once (later occurrences refer back to it, so reading a graph
    back makes each term once, not once per triple), rdflib's terms as they are (see _iri,
    _literal), and rdflib's prepared queries by their parts. The pure-Python pickler, since it
    lets every object be swapped for its equal first occurrence; writing happens once per build."""

    def __init__(self, file: Any, protocol: int) -> None:
        super().__init__(file, protocol)
        self._terms: dict[tuple[Any, ...], Any] = {}

    def save(self, obj: Any, save_persistent_id: bool = True) -> None:
        kind = type(obj)
        if kind is URIRef or kind is BNode:
            obj = self._terms.setdefault((kind, str(obj)), obj)
        elif kind is Literal:
            obj = self._terms.setdefault((kind, str(obj), obj._language, obj._datatype), obj)
        super().save(obj, save_persistent_id)  # type: ignore[misc]

    def reducer_override(self, obj: Any) -> Any:
        kind = type(obj)
        if kind is URIRef:
            return _iri, (str(obj),)
        if kind is Literal and type(obj._value) in _PLAIN:
            return _literal, (str(obj), obj._language, obj._datatype, obj._value, obj._ill_typed)
        if kind is BNode:
            return _blank, (str(obj),)
        if "rdflib.plugins.sparql.parserutils" not in sys.modules:  # nothing here can be a CompValue
            return NotImplemented
        from rdflib.plugins.sparql.parserutils import CompValue

        if isinstance(obj, CompValue):
            state = {k: v for k, v in obj.__dict__.items() if k not in ("_evalfn", "ctx")}
            bound = obj.__dict__.get("_evalfn")
            return _rebuild, (type(obj), list(OrderedDict.items(obj)), state,
                              bound.__func__ if bound is not None else None)
        if isinstance(obj, FunctionType) and id(obj) in _lambdas():
            return _lambda, (_lambdas()[id(obj)],)
        return NotImplemented


def _version(name: str) -> str:
    """The installed version of a distribution, read from the name of its ``.dist-info`` folder
    beside its package (importlib.metadata costs a cold start more than the whole lookup)."""
    try:
        spec = importlib.util.find_spec(name)
    except (ImportError, ValueError):
        spec = None
    if spec is None or not spec.submodule_search_locations:
        return "?"
    folder = Path(next(iter(spec.submodule_search_locations))).parent
    prefix = name.replace("-", "_").lower() + "-"
    with contextlib.suppress(OSError):
        for entry in os.listdir(folder):
            if entry.lower().startswith(prefix) and entry.endswith(".dist-info"):
                return entry[len(prefix):-len(".dist-info")]
    return "?"


def cache_dir() -> Path:
    if os.environ.get("MTUS_CACHE_DIR"):
        return Path(os.environ["MTUS_CACHE_DIR"])
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "mtus-reasoner"


def sources(package: Path | None = None) -> list[Path]:
    """Every Python module of the package (default: ours), in a stable order: the code part of
    the key."""
    return sorted((package or PACKAGE).rglob("*.py"))


def key(root: Path, digest: str, package: Path | None = None) -> str:
    """The cache key of the rule base under ``root`` with the given digest, as built by the
    code of ``package`` (default: ours)."""
    sha = hashlib.sha256(f"{_FORMAT}|{root}|{digest}|{sys.version}|{_version('rdflib')}|"
                         f"{_version('pyshacl')}|{_version('pyoxigraph')}|".encode())
    sha.update(_code_digest((package or PACKAGE).resolve()).encode())
    return sha.hexdigest()


_CODE: dict[tuple[Path, tuple[tuple[str, int, int], ...]], str] = {}


def _code_digest(package: Path) -> str:
    """SHA-256 over the path and source of every module of ``package``; read again whenever a
    module's size or modification time differs from the last reading in this process (a cold
    start asks twice: the rule base and the fast path's compiled queries)."""
    paths = sources(package)
    prefix = len(str(package)) + 1  # str slicing: pathlib's relative_to costs more than the reading
    stats = tuple((str(path)[prefix:].replace(os.sep, "/"), *_stat(path)) for path in paths)
    found = _CODE.get((package, stats))
    if found is None:
        sha = hashlib.sha256()
        for path, (name, _, _) in zip(paths, stats):
            sha.update(f"|{name}|".encode())
            sha.update(path.read_bytes())
        found = _CODE[(package, stats)] = sha.hexdigest()
    return found


def _stat(path: Path) -> tuple[int, int]:
    info = path.stat()
    return info.st_mtime_ns, info.st_size


def key_file() -> Path:
    if os.environ.get("MTUS_CACHE_KEY_FILE"):
        return Path(os.environ["MTUS_CACHE_KEY_FILE"])
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "mtus-reasoner" / "cache.key"


def secret() -> bytes | None:
    """This user's key for signing cache files, created on first use; None (no cache) when it
    cannot be made or may be read or changed by others."""
    path = key_file()
    with contextlib.suppress(FileExistsError, OSError):
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(secrets.token_bytes(32))
    try:
        info = path.stat()
        if info.st_mode & (stat.S_IRWXG | stat.S_IRWXO) or info.st_uid != os.getuid():
            return None
        value = path.read_bytes()
    except OSError:
        return None
    return value if len(value) >= 32 else None


def _sign(key: bytes, payload: bytes) -> bytes:
    return hmac.new(key, payload, hashlib.sha256).digest()


def signed_payload(blob: bytes, key: bytes) -> bytes | None:
    """The pickle inside a cache file, if its signature is this user's; else None."""
    signature, payload = blob[:_SIGNATURE], blob[_SIGNATURE:]
    return payload if hmac.compare_digest(signature, _sign(key, payload)) else None


def dumps(value: Any) -> bytes:
    buffer = io.BytesIO()
    _Pickler(buffer, protocol=pickle.HIGHEST_PROTOCOL).dump(value)
    return buffer.getvalue()


def load_or_build(root: Path, digest: str, build: Callable[[], Any], kind: str = "rulebase") -> Any:
    """The cached ``kind`` for ``root`` and ``digest``, else ``build()`` (cached for next time).
    ``kind`` names what is cached (the rule base; the fast path's compiled queries)."""
    signing_key = None if os.environ.get("MTUS_NO_CACHE") else secret()
    if signing_key is None:
        return build()
    path = cache_dir() / f"{kind}-{key(root, digest)}.pickle"
    with contextlib.suppress(Exception):  # a missing, partial, stale or unsigned file is rebuilt
        payload = signed_payload(path.read_bytes(), signing_key)
        if payload is not None:
            value = pickle.loads(payload)
            os.utime(path)
            return value
    value = build()
    with contextlib.suppress(Exception):  # a read-only or full disk only costs the next start its load
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{kind}-", suffix=".tmp")
        payload = dumps(value)
        with os.fdopen(fd, "wb") as handle:
            handle.write(_sign(signing_key, payload) + payload)
        os.replace(tmp, path)
        _prune(path)
    return value


def _prune(keep: Path, max_age: float = 86400.0) -> None:
    """Remove cache files (of any root) unused for a day."""
    import time

    now = time.time()
    for other in [*keep.parent.glob("*.pickle"), *keep.parent.glob(".*.tmp")]:
        try:
            if other != keep and now - other.stat().st_mtime > max_age:
                other.unlink()
        except OSError:
            pass

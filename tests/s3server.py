"""A real S3 server for the object-storage tests: moto's server mode on 127.0.0.1.

``s3_endpoint`` starts one server per test module (a free port, dummy credentials);
``bucket`` makes a fresh bucket for each test and yields the storage options (and an
s3fs file system) that reach it. Tests skip where moto or s3fs is missing; the README's
test command installs both (``[test]``).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest

__all__ = ["bucket", "s3_endpoint"]


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    """moto's S3 server on 127.0.0.1 and a free port, with dummy credentials."""
    server_module = pytest.importorskip("moto.server")
    pytest.importorskip("s3fs")
    server = server_module.ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()


@pytest.fixture
def bucket(s3_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, Any]]:
    """A fresh bucket; yields the storage options that reach it."""
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(name, value)
    import s3fs

    options = {"client_kwargs": {"endpoint_url": s3_endpoint}, "skip_instance_cache": True}
    name = f"imgcall-{uuid.uuid4().hex[:12]}"
    fs = s3fs.S3FileSystem(**options)
    fs.mkdir(name)
    yield {"name": name, "options": options, "fs": fs}

"""HTTPS through the guarded transport: the connection goes to the checked address while
TLS verifies the name that was asked for. A throwaway self-signed certificate (openssl CLI)
on 127.0.0.1."""

from __future__ import annotations

import asyncio
import shutil
import ssl
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from misbehaving_server import HTML, MisbehavingServer

from aggregator.errors import BlockedURLError, FetchError, TransportError
from aggregator.fetch import Fetcher, FetchSettings
from aggregator.fetch.guard import GuardedTransport
from aggregator.models import Page

pytestmark = pytest.mark.skipif(shutil.which("openssl") is None, reason="needs openssl CLI")

SETTINGS = FetchSettings(timeout=2.0, connect_timeout=1.0, per_host_delay=0, retries=0,
                         allow_private=("127.0.0.1",), robots=False)
NAMES = {"tls.test": ["127.0.0.1"], "other.test": ["127.0.0.1"], "rebind.test": ["127.0.0.2"]}


@pytest.fixture(scope="module")
def cert(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("tls")
    key, crt = folder / "key.pem", folder / "cert.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
         "-subj", "/CN=tls.test", "-addext", "subjectAltName=DNS:tls.test",
         "-keyout", str(key), "-out", str(crt)],
        check=True, capture_output=True)
    return key, crt


@pytest.fixture(scope="module")
def server(cert: tuple[Path, Path]) -> Iterator[MisbehavingServer]:
    key, crt = cert
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(crt, key)
    with MisbehavingServer(tls=context) as srv:
        yield srv


async def resolver(host: str, port: int) -> list[str]:
    return NAMES[host]


def fetch_all(urls: list[str], verify: bool | ssl.SSLContext) -> list[object]:
    async def go() -> list[object]:
        transport = GuardedTransport(SETTINGS.allow_private, resolver=resolver, verify=verify)
        out: list[object] = []
        async with Fetcher(SETTINGS, transport=transport) as fetcher:
            for url in urls:
                try:
                    out.append(await fetcher.fetch(url))
                except FetchError as exc:
                    out.append(exc)
        return out

    return asyncio.run(go())


def test_https_verifies_the_requested_name(server: MisbehavingServer,
                                           cert: tuple[Path, Path]) -> None:
    trust = ssl.create_default_context(cafile=str(cert[1]))
    good, wrong_name, by_ip, rebind = fetch_all([
        f"https://tls.test:{server.port}/ok",
        f"https://other.test:{server.port}/ok",  # same address, name not on the certificate
        f"https://127.0.0.1:{server.port}/ok",
        f"https://rebind.test:{server.port}/ok",
    ], trust)
    assert isinstance(good, Page) and good.content == HTML
    assert good.final_url == f"https://tls.test:{server.port}/ok"
    assert isinstance(wrong_name, TransportError)
    assert isinstance(by_ip, TransportError)
    assert isinstance(rebind, BlockedURLError)


def test_https_untrusted_certificate_refused(server: MisbehavingServer) -> None:
    before = server.hits("/ok")
    (result,) = fetch_all([f"https://tls.test:{server.port}/ok"], True)
    assert isinstance(result, TransportError) and "CERTIFICATE" in result.reason.upper()
    assert server.hits("/ok") == before

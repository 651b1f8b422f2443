"""A TLS engine is verified against its own CA (``DOCKER_CERT_PATH/ca.pem``) even where the host
sets ``REQUESTS_CA_BUNDLE`` / ``CURL_CA_BUNDLE`` for the web (docker-py issue #2433)."""
from __future__ import annotations

from pathlib import Path

import pytest
from docker.tls import TLSConfig

from dhcpdrill.lab import _EngineAPI


def _api(tmp_path: Path) -> _EngineAPI:
    for name in ("ca.pem", "cert.pem", "key.pem"):
        (tmp_path / name).write_text("not read here\n")
    tls = TLSConfig(client_cert=(str(tmp_path / "cert.pem"), str(tmp_path / "key.pem")),
                    ca_cert=str(tmp_path / "ca.pem"), verify=True)
    return _EngineAPI(base_url="tcp://127.0.0.1:2376", tls=tls, version="1.41")


@pytest.mark.parametrize("variable", ["REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"])
def test_the_engines_ca_wins_over_the_hosts_bundle(tmp_path: Path, monkeypatch, variable: str) -> None:
    monkeypatch.setenv(variable, "/etc/ssl/certs/ca-certificates.crt")
    api = _api(tmp_path)
    merged = api.merge_environment_settings(f"{api.base_url}/_ping", {}, False, None, None)
    assert merged["verify"] == str(tmp_path / "ca.pem")


def test_an_explicit_verify_is_left_alone(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/etc/ssl/certs/ca-certificates.crt")
    api = _api(tmp_path)
    assert api.merge_environment_settings(f"{api.base_url}/_ping", {}, False, False, None)["verify"] is False

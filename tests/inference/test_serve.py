"""`encoderlab-serve` as a real process on 127.0.0.1: answers, rejects bad requests, keys and hosts, counts in
/metrics, shuts down gracefully; and `encoderlab-loadtest` against it. Abusive clients: test_serve_abuse.py."""

from __future__ import annotations

import json
import re
import socket
import time
from pathlib import Path

import httpx
import pytest

from encoderlab.cli.loadtest import main as loadtest_main
from encoderlab.inference.predictor import load_predictor
from encoderlab.serving.launch import running_server
from tests.inference.test_predict import NEGATIVE_TEXTS, POSITIVE_TEXTS

KEY = "test-kéy-123"  # not ASCII: it must match what a UTF-8 client sends
LIMITS = ["--max-texts", "4", "--max-chars", "200", "--max-body-bytes", "4000", "--batch-size", "8"]


@pytest.fixture(scope="module")
def server(sst2_checkpoint: Path, tmp_path_factory: pytest.TempPathFactory):
    key_file = tmp_path_factory.mktemp("key") / "key.txt"
    key_file.write_text(KEY + "\n", encoding="utf-8")
    with running_server(str(sst2_checkpoint), [*LIMITS, "--api-key-file", str(key_file)]) as process:
        yield process


def bearer(key: str, encoding: str = "utf-8") -> dict[str, bytes]:
    return {"authorization": b"Bearer " + key.encode(encoding)}


def post(server, body: bytes | None = None, key: str | None = KEY, headers: dict | None = None) -> httpx.Response:
    headers = {"content-type": "application/json", **(bearer(key) if key else {}), **(headers or {})}
    return httpx.post(f"{server.url}/predict", content=body, headers=headers, timeout=30)


def port_of(server) -> int:
    return int(server.url.rsplit(":", 1)[1])


def metric(server, endpoint: str, status: str) -> float:
    text = httpx.get(f"{server.url}/metrics", timeout=10).text
    found = re.search(rf'encoderlab_requests_total\{{endpoint="{endpoint}",status="{status}"\}} (\S+)', text)
    return float(found.group(1)) if found else 0.0


def test_server_listens_on_loopback_and_answers_like_predict(server, sst2_checkpoint: Path) -> None:
    assert server.url.startswith("http://127.0.0.1:")
    assert httpx.get(f"{server.url}/health").json() == {"status": "ok", "task": "classification", "backend": "torch"}
    texts = POSITIVE_TEXTS + NEGATIVE_TEXTS
    response = post(server, json.dumps({"texts": texts}).encode())
    assert response.status_code == 200
    assert response.json()["predictions"] == load_predictor(sst2_checkpoint).predict(texts)


def test_missing_or_wrong_api_key_is_401(server) -> None:
    body = json.dumps({"texts": ["a charming film"]}).encode()
    assert post(server, body, key=None).status_code == 401
    assert post(server, body, key="wrong").status_code == 401
    response = httpx.post(f"{server.url}/predict", content=body, headers={"x-api-key": KEY.encode()})
    assert response.status_code == 200
    assert post(server, b"{broken", key=None).status_code == 401, "no key: nothing about the body is revealed"


def test_a_non_ascii_key_is_compared_as_the_utf8_bytes_the_client_sent(server) -> None:
    body = json.dumps({"texts": ["a charming film"]}).encode()
    assert post(server, body).status_code == 200  # post() sends the key as UTF-8
    headers = {"content-type": "application/json", **bearer(KEY, "latin-1")}  # the same text, other bytes
    assert httpx.post(f"{server.url}/predict", content=body, headers=headers).status_code == 401


@pytest.mark.parametrize(("path", "status"), [("/predict", b"401"), ("/nowhere", b"401"), ("/health", b"405")])
def test_without_the_key_no_body_is_waited_for(server, path: str, status: bytes) -> None:
    """A caller without the key who sends headers and the start of a body hears the answer at once: the server does
    not wait for (and buffer) the rest, not even on the open `/health`."""
    with socket.create_connection(("127.0.0.1", port_of(server)), timeout=5) as client:
        client.sendall(
            f"POST {path} HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\n".encode()
            + b'content-length: 3000\r\n\r\n{"texts": ["a'
        )
        answer = client.recv(4096)
    assert answer.startswith(b"HTTP/1.1 " + status), answer


def test_no_schema_or_docs_are_served(server) -> None:
    for path in ("/openapi.json", "/docs", "/redoc"):
        assert httpx.get(f"{server.url}{path}").status_code == 401, path
        assert httpx.get(f"{server.url}{path}", headers=bearer(KEY)).status_code == 404, path


@pytest.mark.parametrize("host", ["localhost", "127.0.0.1", "[::1]", "LOCALHOST"])
def test_loopback_host_names_are_served(server, host: str) -> None:
    response = httpx.get(f"{server.url}/health", headers={"host": f"{host}:{port_of(server)}"})
    assert response.status_code == 200


@pytest.mark.parametrize("host", ["attacker.example", "attacker.example:80", "127.0.0.1.attacker.example", "[::2]"])
def test_other_host_names_are_refused_dns_rebinding(server, host: str) -> None:
    before = metric(server, "/health", "400")
    response = httpx.get(f"{server.url}/health", headers={"host": host})
    assert response.status_code == 400
    assert "--allowed-hosts" in response.json()["detail"]
    assert post(server, b'{"texts": ["a"]}', headers={"host": host}).status_code == 400, "even with the key"
    assert metric(server, "/health", "400") == before + 1


def test_a_client_that_hangs_up_is_counted_as_499_not_as_a_server_error(server) -> None:
    hung_up, errors = metric(server, "/predict", "499"), metric(server, "/predict", "500")
    with socket.create_connection(("127.0.0.1", port_of(server)), timeout=5) as client:
        client.sendall(
            b"POST /predict HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\n"
            + b"authorization: Bearer "
            + KEY.encode()
            + b'\r\ncontent-length: 300\r\n\r\n{"texts": ["a'
        )
        time.sleep(0.5)  # let the server take the headers in: the request is then waiting for its body
    deadline = time.monotonic() + 10
    while metric(server, "/predict", "499") == hung_up and time.monotonic() < deadline:
        time.sleep(0.05)
    assert metric(server, "/predict", "499") == hung_up + 1
    assert metric(server, "/predict", "500") == errors


BAD_REQUESTS = {
    "malformed JSON": (b'{"texts": ["a film"', 400, "not valid JSON"),
    "a number for a text": (b'{"texts": ["ok", 3]}', 422, "texts.1"),
    "a string for the list": (b'{"texts": "a film"}', 422, "texts"),
    "an unknown field": (b'{"texts": ["a"], "lang": "en"}', 422, "lang"),
    "a list for the body": (b'["a film"]', 422, "body"),
    "no texts": (b'{"texts": []}', 422, "empty"),
    "too many texts": (json.dumps({"texts": ["a"] * 5}).encode(), 413, "at most 4"),
    "too long a text": (json.dumps({"texts": ["a" * 201]}).encode(), 413, "at most 200 per text"),
    "oversize body": (json.dumps({"texts": ["a " * 3000]}).encode(), 413, "over 4000 bytes"),
}


@pytest.mark.parametrize("case", BAD_REQUESTS)
def test_bad_requests_get_a_4xx_with_a_reason_and_the_server_lives_on(server, case: str) -> None:
    body, status, reason = BAD_REQUESTS[case]
    response = post(server, body)
    assert response.status_code == status, response.text
    assert reason in response.json()["detail"]
    assert httpx.get(f"{server.url}/health").status_code == 200


def test_chunked_oversize_body_without_content_length_is_413(server) -> None:
    def chunks():
        for _ in range(10):
            yield b"x" * 1000

    response = httpx.post(f"{server.url}/predict", content=chunks(), headers=bearer(KEY))
    assert response.status_code == 413


def test_metrics_count_requests_by_status(server) -> None:
    ok, unauthorized = metric(server, "/predict", "200"), metric(server, "/predict", "401")
    for _ in range(3):
        assert post(server, b'{"texts": ["a superb cast"]}').status_code == 200
    assert post(server, b'{"texts": ["a"]}', key="nope").status_code == 401
    assert metric(server, "/predict", "200") == ok + 3
    assert metric(server, "/predict", "401") == unauthorized + 1
    text = httpx.get(f"{server.url}/metrics").text
    count = re.search(r'encoderlab_request_latency_seconds_count\{endpoint="/predict"\} (\S+)', text)
    assert count and float(count.group(1)) >= ok + 4
    assert "encoderlab_predicted_texts_total" in text


def test_sigterm_shuts_down_gracefully(sst2_checkpoint: Path) -> None:
    with running_server(str(sst2_checkpoint)) as server:
        assert post(server, b'{"texts": ["a dull film"]}', key=None).status_code == 200
        assert server.stop() == 0
    log = "\n".join(server.output)
    assert "shut down cleanly" in log and "Traceback" not in log


def test_loadtest_records_throughput_and_latency_and_4xx_for_broken_requests(sst2_checkpoint, tmp_path) -> None:
    data = tmp_path / "texts.tsv"
    data.write_text("sentence\n" + "\n".join(POSITIVE_TEXTS + NEGATIVE_TEXTS) + "\n")
    output = tmp_path / "load.json"
    key_file = tmp_path / "key.txt"
    key_file.write_text(KEY, encoding="utf-8")  # the load test sends a non-ASCII key as UTF-8 too
    argv = [str(sst2_checkpoint), "--concurrency", "4", "--requests", "40", "--duration", "60", "--bad-every", "5"]
    argv += ["--api-key-file", str(key_file)]
    assert loadtest_main([*argv, "--data", str(data), "--output", str(output)]) == 0
    record = json.loads(output.read_text())
    assert record["statuses"] == {"200": 32}
    assert sum(record["bad_request_statuses"].values()) == 8
    assert all(status.startswith("4") for status in record["bad_request_statuses"])
    assert record["healthy_after"] and record["server_exit_code"] == 0
    assert 0 < record["latency_ms_p50"] <= record["latency_ms_p99"]
    assert record["throughput_requests_per_sec"] > 0 and record["command"].startswith("encoderlab loadtest")


def test_loadtest_refuses_a_non_loopback_url(capsys, tmp_path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)  # as in a fresh clone: no data/ to read texts from; the URL is checked first
    assert loadtest_main(["--url", "http://10.0.0.1:8000", "--requests", "1"]) == 2
    assert "not a loopback address" in capsys.readouterr().err

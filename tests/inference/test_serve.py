"""`encoderlab-serve` as a real process on 127.0.0.1: answers, rejects bad requests and keys, counts in /metrics,
shuts down gracefully; and `encoderlab-loadtest` against it."""

from __future__ import annotations

import json
import re
from pathlib import Path

import httpx
import pytest

from encoderlab.cli.loadtest import main as loadtest_main
from encoderlab.inference.predictor import load_predictor
from encoderlab.serving.launch import running_server
from tests.inference.test_predict import NEGATIVE_TEXTS, POSITIVE_TEXTS

KEY = "test-key-123"
LIMITS = ["--max-texts", "4", "--max-chars", "200", "--max-body-bytes", "4000", "--batch-size", "8"]


@pytest.fixture(scope="module")
def server(sst2_checkpoint: Path, tmp_path_factory: pytest.TempPathFactory):
    key_file = tmp_path_factory.mktemp("key") / "key.txt"
    key_file.write_text(KEY + "\n")
    with running_server(str(sst2_checkpoint), [*LIMITS, "--api-key-file", str(key_file)]) as process:
        yield process


def post(server, body: bytes | None = None, key: str | None = KEY, **kwargs) -> httpx.Response:
    headers = {"content-type": "application/json", **({"authorization": f"Bearer {key}"} if key else {})}
    return httpx.post(f"{server.url}/predict", content=body, headers=headers, timeout=30, **kwargs)


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
    response = httpx.post(f"{server.url}/predict", content=body, headers={"x-api-key": KEY})
    assert response.status_code == 200
    assert post(server, b"{broken", key=None).status_code == 401, "no key: nothing about the body is revealed"


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

    response = httpx.post(f"{server.url}/predict", content=chunks(), headers={"authorization": f"Bearer {KEY}"})
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
    argv = [str(sst2_checkpoint), "--concurrency", "4", "--requests", "40", "--duration", "60", "--bad-every", "5"]
    assert loadtest_main([*argv, "--data", str(data), "--output", str(output)]) == 0
    record = json.loads(output.read_text())
    assert record["statuses"] == {"200": 32}
    assert sum(record["bad_request_statuses"].values()) == 8
    assert all(status.startswith("4") for status in record["bad_request_statuses"])
    assert record["healthy_after"] and record["server_exit_code"] == 0
    assert 0 < record["latency_ms_p50"] <= record["latency_ms_p99"]
    assert record["throughput_requests_per_sec"] > 0 and record["command"].startswith("encoderlab-loadtest")


def test_loadtest_refuses_a_non_loopback_url(capsys) -> None:
    assert loadtest_main(["--url", "http://10.0.0.1:8000", "--requests", "1"]) == 2
    assert "not a loopback address" in capsys.readouterr().err

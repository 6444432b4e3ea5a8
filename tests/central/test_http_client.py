"""The HTTP client of the central server against a small server on this machine: the
request it sends (credentials, job id as the idempotency key), and how it reads each
kind of answer."""

import base64
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from registry.central.client import CentralRequest, LinkDown, Rejected
from registry.central.http import HttpCentralClient


class FakeCentral(BaseHTTPRequestHandler):
    answers: list = []
    seen: list = []

    def _answer(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = json.loads(self.rfile.read(length)) if length else None
        self.seen.append({"method": self.command, "path": self.path,
                          "headers": dict(self.headers), "body": body})
        status, payload = self.answers.pop(0)
        if status == "hang":
            threading.Event().wait(3)
            status, payload = 200, {}
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = _answer  # noqa: N815 - the names http.server calls

    def log_message(self, *args):
        pass


@pytest.fixture
def central_server():
    FakeCentral.answers, FakeCentral.seen = [], []
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeCentral)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/api", FakeCentral
    server.shutdown()
    server.server_close()


REQUEST = CentralRequest(job_id="6f1c2d4e-0000-4000-8000-000000000001", kind="card_print",
                         office_code="3275", application_number="3275-2022-00001",
                         payload={"nik": "3275011203850001", "service": "KTP_TTD_FOTO"})


def client_for(url, timeout=2):
    return HttpCentralClient(base_url=url, client_id="kota", secret="rahasia",
                             timeout=timeout)


def test_a_job_is_sent_with_its_id_and_credentials(central_server):
    url, fake = central_server
    fake.answers.append((201, {"reference": "PUSAT-778"}))
    answer = client_for(url).submit(REQUEST)
    assert (answer.reference, answer.duplicate) == ("PUSAT-778", False)
    sent = fake.seen[0]
    assert (sent["method"], sent["path"]) == ("POST", "/api/jobs")
    assert sent["headers"]["Idempotency-Key"] == REQUEST.job_id
    assert sent["headers"]["X-Office-Code"] == "3275"
    assert sent["headers"]["Authorization"] == "Basic " + base64.b64encode(
        b"kota:rahasia").decode()
    assert sent["body"]["payload"] == {"nik": "3275011203850001", "service": "KTP_TTD_FOTO"}


def test_a_job_done_before_is_a_duplicate_with_the_same_reference(central_server):
    url, fake = central_server
    fake.answers.append((409, {"reference": "PUSAT-778"}))
    answer = client_for(url).submit(REQUEST)
    assert (answer.reference, answer.duplicate) == ("PUSAT-778", True)


@pytest.mark.parametrize(("status", "error"), [
    (503, LinkDown), (500, LinkDown), (429, LinkDown), (422, Rejected), (400, Rejected),
    (401, Rejected),
])
def test_answers_mean_link_down_or_refused(central_server, status, error):
    url, fake = central_server
    fake.answers.append((status, {"detail": "NIK tidak ditemukan"}))
    with pytest.raises(error):
        client_for(url).submit(REQUEST)


def test_a_health_check_and_a_silent_server_and_no_server(central_server):
    url, fake = central_server
    fake.answers.append((200, {"ok": True}))
    client_for(url).health(office_code="3275")
    assert (fake.seen[0]["method"], fake.seen[0]["path"]) == ("GET", "/api/health")
    fake.answers.append(("hang", None))
    with pytest.raises(LinkDown):
        client_for(url, timeout=0.5).health(office_code="3275")
    with pytest.raises(LinkDown):
        client_for("http://127.0.0.1:9/api").health(office_code="3275")
    with pytest.raises(LinkDown):
        client_for("").submit(REQUEST)


def test_an_answer_without_a_reference_is_not_taken_as_done(central_server):
    url, fake = central_server
    fake.answers.append((200, {}))
    with pytest.raises(LinkDown):
        client_for(url).submit(REQUEST)

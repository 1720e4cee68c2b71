"""The Web API stand-in behaves like Slack where our tests depend on it."""

from __future__ import annotations

from urllib.error import HTTPError

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import RateLimitErrorRetryHandler
from slack_sdk.webhook import WebhookClient

from tests.slack_standin import BOT_USER_ID, Reply


def test_records_calls_and_replays_a_scripted_rate_limit(slack_api):
    client = WebClient(token="xoxb-test", base_url=slack_api.api_url,
                       retry_handlers=[RateLimitErrorRetryHandler(max_retry_count=1)])
    slack_api.script("chat.postMessage",
                     Reply(429, {"ok": False, "error": "ratelimited"}, {"Retry-After": "1"}))
    sent = client.chat_postMessage(channel="C1", text="hello",
                                   blocks=[{"type": "section", "text": {"type": "mrkdwn",
                                                                        "text": "hello"}}])
    calls = slack_api.calls_to("chat.postMessage")
    assert [c.status for c in calls] == [429, 200]
    assert sent["ts"] and calls[1].body["channel"] == "C1"
    assert calls[1].value("blocks")[0]["text"]["text"] == "hello"
    assert calls[1].headers["authorization"] == "Bearer xoxb-test"
    assert client.auth_test()["user_id"] == BOT_USER_ID


def test_accepts_response_urls_and_scripted_server_errors(slack_api):
    slack_api.fail("response/r1", times=1)
    hook = WebhookClient(slack_api.response_url("r1"))
    assert hook.send(text="first").status_code == 500
    assert hook.send(text="second").status_code == 200
    assert [c.body["text"] for c in slack_api.delivered("response/r1")] == ["second"]


def test_files_upload_v2_shares_the_bytes_into_the_thread(slack_api):
    client = WebClient(token="xoxb-test", base_url=slack_api.api_url)
    png = bytes(range(256)) * 40  # binary, with every byte value: nothing may be re-encoded
    sent = client.files_upload_v2(content=png, filename="chart.png", title="Bookings",
                                  alt_txt="A chart", channel="C1", thread_ts="1700000000.000100")
    [upload] = slack_api.wait_for_uploads(1)
    assert (upload.filename, upload.title, upload.alt_txt) == ("chart.png", "Bookings", "A chart")
    assert upload.content == png
    assert (upload.channel, upload.thread_ts) == ("C1", "1700000000.000100")
    assert sent["file"]["id"] == upload.file_id
    assert [c.method for c in slack_api.calls] == [
        "files.getUploadURLExternal", "upload", "files.completeUploadExternal"]


def test_an_upload_whose_bytes_never_arrived_is_not_shared(slack_api):
    client = WebClient(token="xoxb-test", base_url=slack_api.api_url)
    slack_api.fail("upload", times=1)
    with pytest.raises(HTTPError):
        client.files_upload_v2(content=b"png", filename="chart.png", channel="C1")
    [refused] = slack_api.calls_to("upload")
    with pytest.raises(SlackApiError, match="file_not_found"):
        client.files_completeUploadExternal(files=[{"id": refused.body["file_id"]}],
                                            channel_id="C1")
    assert refused.status == 500 and slack_api.uploads == []

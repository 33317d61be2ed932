"""Webhooks of the saved watches: after `news-index add` has recorded its matches, each watch with a webhook gets
its undelivered matches POSTed as JSON, with retries and exponential backoff (urllib3's `Retry`).

A failing webhook never fails indexing: its matches stay undelivered in the store, the watch keeps the error,
the summary says so, and the next run sends them again (with whatever it matched since). Delivery is at least
once: a receiver that answered 2xx but whose answer was lost gets the same matches again (`article_id` and
`watch.id` identify them).
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from datetime import datetime, timezone

import urllib3
from urllib3.util import Retry, Timeout

from search.store import Store
from search.store.watches import Watch, WatchMatch

PER_POST = 100  # matches per request: a webhook that was down for long gets its backlog in parts
RETRY_STATUSES = (408, 425, 429, 500, 502, 503, 504)  # worth another try; other answers are final


@dataclass
class WebhookSettings:
    """How hard to try (the `news-index add` defaults: 4 attempts, 0 s, 1 s and 2 s apart)."""

    retries: int = 3  # attempts after the first
    backoff_s: float = 0.5  # urllib3's backoff factor: waits of 0, 2x, 4x ... this between attempts, at most 10 s
    timeout_s: float = 10.0  # to connect, and to read the answer


@dataclass
class Delivery:
    """What happened to one watch's webhook in this run."""

    watch_id: int
    name: str
    delivered: int  # matches received (2xx)
    waiting: int  # matches left for the next run
    error: str | None = None

    def __str__(self) -> str:
        head = f"watch {self.watch_id} ({self.name}): "
        if self.error is None:
            return head + f"{self.delivered} new matches delivered"
        return head + (f"{self.delivered} delivered, " if self.delivered else "") + \
            f"webhook failed ({self.error}); {self.waiting} matches will be sent again by the next run"


def payload(watch: Watch, matches: list[WatchMatch]) -> dict:
    """The JSON body a webhook receives."""
    return {"watch": {"id": watch.id, "name": watch.name, "query": watch.query,
                      "feed": f"/watches/{watch.id}/feed.xml"},
            "matches": [{k: v for k, v in asdict(m).items() if k not in ("delivered", "summary")} for m in matches]}


def deliver_webhooks(store: Store, settings: WebhookSettings | None = None) -> list[Delivery]:
    """POST every watch's undelivered matches to its webhook; one Delivery per watch that had some to send."""
    settings = settings or WebhookSettings()
    retry = Retry(total=settings.retries, backoff_factor=settings.backoff_s, backoff_max=10.0,
                  status_forcelist=RETRY_STATUSES, allowed_methods=None,  # None: POST is retried too
                  respect_retry_after_header=False,  # a receiver's "Retry-After: 3600" must not stall indexing
                  raise_on_status=True, redirect=0)
    http = urllib3.PoolManager(retries=retry, timeout=Timeout(connect=settings.timeout_s, read=settings.timeout_s))
    return [d for watch in store.watches() if watch.webhook and watch.undelivered
            for d in [_deliver(store, http, watch)]]


def _deliver(store: Store, http: urllib3.PoolManager, watch: Watch) -> Delivery:
    delivered = 0
    while True:
        matches = store.undelivered_matches(watch.id, PER_POST)
        if not matches:
            return Delivery(watch.id, watch.name, delivered, 0)
        error = _post(http, watch.webhook or "", payload(watch, matches))
        if error is not None:
            store.set_webhook_error(watch.id, error)
            return Delivery(watch.id, watch.name, delivered, watch.undelivered - delivered, error)
        store.mark_delivered(watch.id, [m.article_id for m in matches],
                             datetime.now(timezone.utc).isoformat(timespec="seconds"))
        delivered += len(matches)


def _post(http: urllib3.PoolManager, url: str, body: dict) -> str | None:
    """None when the receiver answered 2xx (after retries), else why not, in a few words."""
    try:
        response = http.request("POST", url, body=json.dumps(body, ensure_ascii=False).encode(),
                                headers={"Content-Type": "application/json", "User-Agent": "newsearch-watch/1"})
    except urllib3.exceptions.MaxRetryError as exc:
        return f"{url}: {exc.reason}"
    except (urllib3.exceptions.HTTPError, ValueError) as exc:  # a URL urllib3 cannot use, a broken connection
        return f"{url}: {exc}"
    return None if 200 <= response.status < 300 else f"{url} answered {response.status}"

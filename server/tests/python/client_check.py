"""The official Kubernetes Python client against kevdb.

Usage: client_check.py URL EXPECTED_EVENTS

1. Lists every event with limit/_continue (small pages) and checks each
   event is seen exactly once and the total is EXPECTED_EVENTS.
2. Watches from the list's resourceVersion with watch.Watch(), stops, and
   resumes from the last resourceVersion it saw: the two streams together
   hold every observation ingested meanwhile, without gaps or repeats.
"""
import json
import sys
import threading
import time
import urllib.request

from kubernetes import client, watch


def main():
    url, expected = sys.argv[1], int(sys.argv[2])
    cfg = client.Configuration()
    cfg.host = url
    api = client.CoreV1Api(client.ApiClient(cfg))

    seen, token, pages = [], None, 0
    while True:
        resp = api.list_event_for_all_namespaces(limit=37, _continue=token)
        seen.extend(e.metadata.uid for e in resp.items)
        pages += 1
        token = resp.metadata._continue
        if not token:
            break
    assert len(seen) == len(set(seen)), "an event was listed twice"
    assert len(seen) == expected, f"listed {len(seen)} events, expected {expected}"
    assert pages > 1
    rv = resp.metadata.resource_version

    def post(i):
        body = json.dumps({
            "kind": "Event", "apiVersion": "v1",
            "metadata": {"name": f"py.{i}", "namespace": "default", "uid": f"py-{i}"},
            "involvedObject": {"kind": "Pod", "name": "py", "namespace": "default"},
            "reason": "PyProbe", "message": f"probe {i}", "type": "Normal",
            "firstTimestamp": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "lastTimestamp": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "count": 1,
        }).encode()
        req = urllib.request.Request(url + "/kevdb/v1/ingest", data=body, method="POST",
                                     headers={"Content-Type": "application/json"})
        urllib.request.urlopen(req).read()

    for i in range(5):
        post(i)
    got, last_rv = [], rv
    w = watch.Watch()
    for ev in w.stream(api.list_event_for_all_namespaces, resource_version=rv, timeout_seconds=10):
        got.append(ev["object"].metadata.uid)
        last_rv = ev["object"].metadata.resource_version
        if len(got) == 3:
            w.stop()
    for i in range(5, 8):
        post(i)
    w = watch.Watch()
    for ev in w.stream(api.list_event_for_all_namespaces, resource_version=last_rv, timeout_seconds=10):
        got.append(ev["object"].metadata.uid)
        if len(got) == 8:
            w.stop()
    assert got == [f"py-{i}" for i in range(8)], got
    print("ok", len(seen), "listed in", pages, "pages;", len(got), "watched across a resume")


if __name__ == "__main__":
    main()

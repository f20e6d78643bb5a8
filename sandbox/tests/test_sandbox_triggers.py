"""Triggers: a change fired at an exact moment of a read, and what it does to offset pages."""
from __future__ import annotations

import pytest

from personio_sandbox.testing import Sandbox
from sandbox_client import Client

EMPLOYEES = "/v1/company/employees"


@pytest.fixture()
def fresh():
    with Sandbox(employees=30, seed=5) as s:
        yield s, Client(s)


def _ids(body) -> list[int]:
    return [e["attributes"]["id"]["value"] for e in body["data"]]


def _truth_ids(s) -> list[int]:
    return [e["attributes"]["id"]["value"] for e in s.truth("employees")]


def test_trigger_fires_exactly_after_the_nth_request_on_its_path(fresh):
    s, c = fresh
    victim = _truth_ids(s)[2]
    tid = s.trigger(after_requests=3, path=EMPLOYEES, resource="employees", delete=1, delete_ids=[victim])
    seen = []
    for i in range(5):
        c.get("/v1/company/time-offs", {"limit": 5})  # other paths do not count
        seen.append(victim in _ids(c.get(EMPLOYEES, {"limit": 10}).json()))
    assert seen == [True, True, True, False, False]
    (trg,) = s.triggers()
    assert trg["id"] == tid and trg["fired"] is True and trg["requests_seen"] == 3
    assert trg["result"]["deleted"]["employees"] == [victim]
    # global request number: v1 auth + 3 time-offs + 3 employees pages
    assert trg["fired_at_request"] == 7
    (change,) = [x for x in s.changes() if x["resource"] == "employees"]
    assert change["op"] == "delete" and change["id"] == victim and change["request"] == 7
    assert change["source"] == "trigger " + tid


def test_after_records_counts_the_records_served_on_the_path(fresh):
    s, c = fresh
    victim = _truth_ids(s)[0]
    s.trigger(after_records=12, path=EMPLOYEES, resource="employees", delete=1, delete_ids=[victim])
    seen = [victim in _ids(c.get(EMPLOYEES, {"limit": 5}).json()) for _ in range(4)]
    assert seen == [True, True, True, False]  # 5 + 5 + 5 records >= 12 after the third page


def test_clear_triggers_removes_unfired_triggers(fresh):
    s, c = fresh
    s.trigger(after_requests=1, path=EMPLOYEES, resource="employees", delete=1)
    assert len(s.triggers()) == 1
    s.clear_triggers()
    assert s.triggers() == []
    before = len(s.truth("employees"))
    c.get(EMPLOYEES, {"limit": 5})
    c.get(EMPLOYEES, {"limit": 5})
    assert len(s.truth("employees")) == before


def test_a_delete_between_two_v1_employee_pages_shifts_the_next_page_left(fresh):
    s, c = fresh
    order = _truth_ids(s)
    # after page 1 is answered, a record on page 1 is deleted
    s.trigger(after_requests=1, path=EMPLOYEES, resource="employees", delete=1, delete_ids=[order[3]])
    page1 = _ids(c.get(EMPLOYEES, {"limit": 10, "offset": 0}).json())
    page2 = c.get(EMPLOYEES, {"limit": 10, "offset": 10}).json()
    assert page1 == order[:10]
    assert _ids(page2) == order[11:21]  # shifted left by one
    assert page2["metadata"]["total_elements"] == len(order) - 1
    # the record at the boundary is on neither page: the loss a connector must survive
    boundary = order[10]
    assert boundary not in page1 and boundary not in _ids(page2) and boundary in _truth_ids(s)


def test_an_insert_between_two_v1_employee_pages_shifts_the_next_page_right(fresh):
    s, c = fresh
    order = _truth_ids(s)
    s.trigger(after_requests=1, path=EMPLOYEES, resource="employees", create=1, position=0)
    page1 = _ids(c.get(EMPLOYEES, {"limit": 10, "offset": 0}).json())
    page2 = _ids(c.get(EMPLOYEES, {"limit": 10, "offset": 10}).json())
    assert page1 == order[:10]
    assert page2 == order[9:19]  # shifted right by one
    assert set(page1) & set(page2) == {order[9]}  # the boundary record appears on both pages
    new = [x for x in _truth_ids(s) if x not in order]
    assert len(new) == 1 and _truth_ids(s)[0] == new[0]


def test_a_delete_between_two_time_off_pages_shifts_the_page_number_pages_too(fresh):
    s, c = fresh
    order = [a["attributes"]["id"] for a in s.truth("absences")]
    s.trigger(after_requests=1, path="/v1/company/time-offs", resource="absences", delete=1,
              delete_ids=[order[0]])
    p1 = [a["attributes"]["id"] for a in c.get("/v1/company/time-offs", {"limit": 20, "offset": 1}).json()["data"]]
    p2 = [a["attributes"]["id"] for a in c.get("/v1/company/time-offs", {"limit": 20, "offset": 2}).json()["data"]]
    assert p1 == order[:20] and p2 == order[21:41]
    assert order[20] not in p1 + p2


def test_created_records_land_anywhere_in_list_order_by_default():
    with Sandbox(employees=40, seed=6) as s:
        before = _truth_ids(s)
        created = s.mutate(create=6, resources=["employees"], seed=3)["created"]["employees"]
        after = _truth_ids(s)
        positions = sorted(after.index(i) for i in created)
        assert positions != list(range(len(after) - 6, len(after)))  # not all appended at the end
        assert [i for i in after if i not in created] == before       # existing order is kept
    with Sandbox(employees=40, seed=6, extra_args=["--insert-at", "end"]) as s:
        created = s.mutate(create=6, resources=["employees"], seed=3)["created"]["employees"]
        assert _truth_ids(s)[-6:] == created


def test_trigger_with_a_bad_mutation_is_refused(fresh):
    s, _ = fresh
    import urllib.error
    with pytest.raises(urllib.error.HTTPError) as e:
        s.trigger(after_requests=1, resource="no_such_resource", update=1)
    assert e.value.code == 400
    assert s.triggers() == []


def test_exact_path_trigger_ignores_longer_paths(fresh):
    s, c = fresh
    order = _truth_ids(s)
    s.trigger(after_requests=1, path=EMPLOYEES, exact=True, resource="employees", delete=1, delete_ids=[order[0]])
    c.get("/v1/company/employees/%d/absences/balance" % order[1])  # a longer path: not counted
    assert order[0] in _ids(c.get(EMPLOYEES, {"limit": 5}).json())
    assert order[0] not in _ids(c.get(EMPLOYEES, {"limit": 5}).json())


def test_v2_cursors_address_positions_in_the_current_list_so_a_delete_shifts_them_too(fresh):
    s, c = fresh
    order = [p["id"] for p in s.truth("persons")]
    s.trigger(after_requests=1, path="/v2/persons", exact=True, resource="persons", delete=1, delete_ids=[order[0]])
    first = c.get("/v2/persons", {"limit": 5}).json()
    second = c.get(first["_meta"]["links"]["next"]["href"]).json()
    assert [p["id"] for p in first["_data"]] == order[:5]
    assert [p["id"] for p in second["_data"]] == order[6:11]  # order[5] is on neither page

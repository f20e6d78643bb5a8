"""stream_names: per-report stream names are unique, stable and never empty."""

from source_personio.stream_names import dig, id_suffix, report_stream_names, slug

A = "1985b59f-3a51-43f4-b772-8bf865b1d230"
B = "e1fd62c1-c945-4ecb-a623-13fe129556e6"


def test_a_latin_unique_name_keeps_the_plain_rule():
    assert report_stream_names("report_v2_", [(A, "Headcount today (2026)", "2026-01-01")]) == {A: "report_v2_headcount_today_2026"}
    assert slug("  Ä/b--C ") == "b_c"


def test_same_named_reports_the_first_created_keeps_the_name():
    names = report_stream_names("custom_report_", [(B, "Headcount today", "2026-06-04T00:00:00Z"), (A, "Headcount today", "2026-04-15T00:00:00Z")])
    assert names == {A: "custom_report_headcount_today", B: "custom_report_headcount_today_e1fd62c1"}


def test_a_new_same_named_report_does_not_rename_the_old_one():
    before = report_stream_names("report_v2_", [(A, "Headcount today", "2026-04-15")])
    after = report_stream_names("report_v2_", [(B, "Headcount today", "2026-06-04"), (A, "Headcount today", "2026-04-15")])
    assert after[A] == before[A] == "report_v2_headcount_today"


def test_names_without_a_latin_letter_get_the_id():
    names = report_stream_names("report_v2_", [(A, "Отчёт по сотрудникам", None), (B, "従業員一覧", None), ("r-3", "2024", None)])
    assert names == {A: "report_v2_1985b59f", B: "report_v2_e1fd62c1", "r-3": "report_v2_2024_r3"}


def test_names_are_unique_even_when_suffixes_would_collide():
    reports = [("abcdefgh-1", "X", "1"), ("abcdefgh-2", "X", "2"), ("abcdefgh-3", "X", "3")]
    names = report_stream_names("p_", reports)
    assert len(set(names.values())) == 3
    assert names["abcdefgh-1"] == "p_x" and names["abcdefgh-2"] == "p_x_abcdefgh"
    assert names["abcdefgh-3"] == "p_x_abcdefgh3"


def test_id_suffix_and_dig():
    assert id_suffix("---") and len(id_suffix("---")) == 8  # a hash when the id has no letter or digit
    assert dig({"attributes": {"id": 5}}, ["attributes", "id"]) == 5
    assert dig({"attributes": None}, ["attributes", "id"]) is None

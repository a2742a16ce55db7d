"""The one analyzer: dictionary words, search-mode sub-words, synonyms, 文号, operator files."""

from __future__ import annotations

from pathlib import Path

from services.search.analysis import Analyzer, normalize


def test_government_terms_stay_whole_and_sub_words_are_indexed() -> None:
    analyzer = Analyzer()
    analyzed = analyzer.analyze("深入推进政务公开，优化营商环境，推行一网通办和放管服改革")
    assert {"政务公开", "一网通办", "优化营商环境"} <= set(analyzed.precise)
    assert {"政务", "公开", "营商环境", "营商"} <= set(analyzed.sub)
    assert "，" not in analyzed.precise


def test_normalisation_folds_width_and_case() -> None:
    assert normalize("ＡＢＣ１２３") == "abc123"
    assert Analyzer().cut("ＡＢＣ 政务") == ["abc", "政务"]


def test_synonyms_expand_both_ways() -> None:
    analyzer = Analyzer()
    words = analyzer.parse_query("医保").words
    assert [["医保"], ["医疗保险"], ["基本医疗保险"], ["医疗保障"]] == words[0].alternatives
    back = analyzer.parse_query("医疗保险").words[0].alternatives
    assert ["医保"] in back


def test_doc_no_query_is_exact_in_any_bracket_style() -> None:
    analyzer = Analyzer()
    for typed in (
        "国办发〔2017〕47号",
        "国办发[2017]47号",
        "国办发（2017）47号",
        "国办发 [２０１７] ４７ 号",
    ):
        parsed = analyzer.parse_query(typed)
        assert parsed.doc_no == "国办发〔2017〕47号" and not parsed.words


def test_operator_folder_extends_dictionary_and_synonyms(tmp_path: Path) -> None:
    extra = tmp_path / "dict"
    extra.mkdir()
    (extra / "userdict-local.txt").write_text("# 本地词\n鸭绿江口湿地 100 n\n", encoding="utf-8")
    (extra / "synonyms-local.txt").write_text("湿地保护,湿地保育\n", encoding="utf-8")
    analyzer = Analyzer(extra_dict_dir=extra)
    assert "鸭绿江口湿地" in analyzer.cut("保护鸭绿江口湿地")
    assert ["湿地保育"] in analyzer.parse_query("湿地保护").words[0].alternatives
    assert "鸭绿江口湿地" not in Analyzer().cut("保护鸭绿江口湿地")

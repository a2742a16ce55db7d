"""The compiled segmenter cuts as pure-Python jieba does, so an index and its queries agree.

The reference is jieba itself, configured as the analyzer configured it before the compiled
segmenter replaced it (own Tokenizer, user dictionary, synonyms as whole words, no HMM), and the
old sub-word rule over jieba's frequency table. Any drift — an upgrade of rjieba or jieba, a
dictionary that one of them reads differently — fails here rather than splitting words
differently in documents indexed before and after it.
"""

from __future__ import annotations

import gzip
import itertools
import json
import unicodedata
from collections.abc import Iterator
from pathlib import Path

import jieba
import pytest

from services.kernel.synonyms import groups as synonym_groups
from services.kernel.synonyms import normalize, synonym_files
from services.search.analysis import SHIPPED_DICT_DIR, Analyzed, Analyzer, is_word

# Text that exercises what the corpus has little of: Latin, digits, full-width forms, mixed
# punctuation, 文号, line breaks and runs of spaces.
MIXED = """国务院办公厅关于印发《“十四五”数字政府建设规划》的通知　国办发〔2022〕14号
各省、自治区、直辖市人民政府，国务院各部委、各直属机构：
　　深入推进“放管服”改革，推行一网通办、一网统管和跨省通办，优化营商环境。ＡＢＣ１２３ abc-123 COVID-19
第三十二条  生态环境保护主管部门和其他负有监督管理职责的部门，应当依法公开环境信息；
人力资源和社会保障部门 医保 医疗保险 基本医疗保险 12345政务服务便民热线 www.gov.cn 5G+工业互联网 ……
（二）城乡居民基本养老保险；（三）2020年1月1日起施行。Ⅲ级 ①②③ 1.5% £100 email@example.com
"""


def _reference(extra: Path | None, cache: Path) -> jieba.Tokenizer:
    tok = jieba.Tokenizer()
    tok.tmp_dir = str(cache)
    tok.initialize()
    folders = [SHIPPED_DICT_DIR] + ([extra] if extra else [])
    for folder in folders:
        for path in sorted(folder.glob("userdict*.txt")):
            for raw in path.read_text(encoding="utf-8").splitlines():
                line = unicodedata.normalize("NFC", raw.strip())
                if not line or line.startswith("#"):
                    continue
                parts = line.split()
                freq = int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else None
                tok.add_word(normalize(parts[0]), freq)
    for path in synonym_files(folders):
        for group in synonym_groups(path):
            for word in group:
                if not tok.FREQ.get(word):
                    tok.add_word(word, 1000)
    return tok


def _reference_analyze(tok: jieba.Tokenizer, text: str) -> Analyzed:
    precise: list[str] = []
    sub: list[str] = []
    for word in tok.cut(normalize(text), HMM=False):
        if not is_word(word):
            continue
        precise.append(word)
        n = len(word)
        if n > 2:
            sub.extend(word[i : i + 2] for i in range(n - 1) if tok.FREQ.get(word[i : i + 2]))
        for size in range(3, min(n - 1, 8) + 1):
            sub.extend(word[i : i + size] for i in range(n - size + 1) if tok.FREQ.get(word[i : i + size]))
    return Analyzed(precise=precise, sub=sub)


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> jieba.Tokenizer:
    return _reference(None, tmp_path_factory.mktemp("jieba"))


def _held_sample(path: Path, every: int) -> Iterator[str]:
    """Every n-th text of the corpus, title and body: a fixed sample across all its kinds."""
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        for line in itertools.islice(fh, 0, None, every):
            doc = json.loads(line)
            yield f"{doc.get('title', '')}\n{doc['body']}"


def test_cuts_and_sub_words_equal_jiebas_on_mixed_text(reference: jieba.Tokenizer) -> None:
    analyzer = Analyzer()
    assert analyzer.segmenter.cut(normalize(MIXED)) == list(reference.cut(normalize(MIXED), HMM=False))
    assert analyzer.analyze(MIXED) == _reference_analyze(reference, MIXED)
    for line in MIXED.splitlines():
        assert analyzer.cut(line) == [t for t in reference.cut(normalize(line), HMM=False) if is_word(t)]


def test_cuts_and_sub_words_equal_jiebas_on_a_held_corpus_sample(
    reference: jieba.Tokenizer, corpus_path: Path
) -> None:
    analyzer = Analyzer()
    texts = chars = 0
    differing: list[int] = []
    for n, text in enumerate(_held_sample(corpus_path, every=40)):
        texts += 1
        chars += len(text)
        if analyzer.analyze(text) != _reference_analyze(reference, text):
            differing.append(n)
    assert texts >= 80 and chars > 400_000
    assert differing == []


def test_operator_words_without_a_frequency_cut_as_jieba_cuts_them(tmp_path: Path) -> None:
    extra = tmp_path / "dict"
    extra.mkdir()
    # No frequency: both must suggest the one that keeps the word whole, the same one.
    (extra / "userdict-local.txt").write_text("鸭绿江口湿地\n生态环境保护督察\n", encoding="utf-8")
    (extra / "synonyms-local.txt").write_text("湿地保护,湿地保育\n", encoding="utf-8")
    reference = _reference(extra, tmp_path / "cache")
    analyzer = Analyzer(extra_dict_dir=extra)
    text = "保护鸭绿江口湿地，开展中央生态环境保护督察和湿地保育。" + MIXED
    assert analyzer.analyze(text) == _reference_analyze(reference, text)
    assert {"鸭绿江口湿地", "生态环境保护督察", "湿地保育"} <= set(analyzer.cut(text))

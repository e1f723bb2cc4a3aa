"""Tests for textdrift.segment, on invented sentences (hand-checked expected values)."""

from pathlib import Path

import jieba
import pyarrow.parquet as pq
import pytest
import spacy

from textdrift import segment
from textdrift.segment import Segmenter, empty_tokens, segment_shard, write_tokens
from textdrift.counting import TOKEN_COLUMNS, TOKEN_SCHEMA
from conftest import FIXTURE

ROOT = Path(__file__).resolve().parents[1]
USER_DICT = FIXTURE / "config" / "zh_user_dict.txt"


@pytest.fixture(scope="session")
def cache_dir(tmp_path_factory):
    return str(tmp_path_factory.mktemp("jieba-cache"))


@pytest.fixture(scope="module")
def seg(cache_dir):
    return Segmenter({"cache_dir": cache_dir}, ROOT)


def user_terms():
    return [line.split()[0] for line in USER_DICT.read_text(encoding="utf-8").splitlines() if line.strip()]


def check_offsets(df, paragraphs):
    for para, idx, text in zip(df.para, df.idx, df.text):
        assert paragraphs[para][idx : idx + len(text)] == text


# ---- English -----------------------------------------------------------------


def test_english_norms_lemmas_and_flags(seg):
    paras = ["Countries were building networks."]
    df = seg.segment_document("d1", 2021, "en", paras)
    assert list(df.text) == ["Countries", "were", "building", "networks", "."]
    assert list(df.norm) == ["country", "be", "build", "network", "."]
    assert list(df.lemma) == ["country", "be", "build", "network", "."]
    assert list(df.is_stop) == [False, True, False, False, False]
    assert list(df.is_punct) == [False, False, False, False, True]
    assert list(df.keep) == [True, False, True, True, False]
    check_offsets(df, paras)


def test_english_lookup_pitfalls(seg):
    # "data" -> "datum" and "ai" -> "have" in the lookup table; acronyms are not stop words
    # except in an all-caps heading; hyphenated words and 5G stay whole.
    paras = ["AI and IT in the US need better cross-border data and 5G.", "THE DIGITAL NETWORKS OF US"]
    assert list(seg.segment_document("d", 2021, "en", ["We use 5G."]).text) == ["We", "use", "5G", "."]
    df = seg.segment_document("d1", 2021, "en", paras)
    norms = dict(zip(df.text, df.norm))
    assert norms["AI"] == "ai" and norms["data"] == "data" and norms["better"] == "better"
    assert norms["cross-border"] == "cross-border" and norms["5G"] == "5g"
    assert norms["NETWORKS"] == "network"
    # lemmas do not depend on case (a name is an entity of config/entities.yaml, not a lemma question)
    names = seg.segment_document("d", 2021, "en", ["Developing countries join the United Nations 2030 Agenda."])
    assert list(names.norm) == ["developing", "country", "join", "the", "unite", "nation", "2030", "agenda", "."]
    first, heading = df[df.para == 0], df[df.para == 1]
    assert not first[first.text.isin(["AI", "IT", "US"])].is_stop.any()
    assert heading.set_index("text").is_stop.to_dict() == {"THE": True, "DIGITAL": False, "NETWORKS": False, "OF": True, "US": True}
    check_offsets(df, paras)


def test_english_numbers_min_len_and_whitespace(cache_dir):
    paras = ["  In 2030 a 5 x plan   costs 1,000."]
    df = Segmenter({"cache_dir": cache_dir}, ROOT).segment_document("d", 2030, "en", paras)
    assert list(df.text) == ["In", "2030", "a", "5", "x", "plan", "costs", "1,000", "."]
    assert dict(zip(df.text, df.keep)) == {
        "In": False, "2030": False, "a": False, "5": False, "x": False,
        "plan": True, "costs": True, "1,000": False, ".": False,
    }
    check_offsets(df, paras)
    kept = Segmenter({"keep_numbers": True, "min_len": 1}, ROOT).segment_document("d", 2030, "en", paras)
    assert set(kept[kept.keep].text) == {"2030", "5", "x", "plan", "costs", "1,000"}


def test_english_sentence_index_runs_through_document(seg):
    paras = ["Data flows grow. Rules lag behind!", "", "A third sentence."]
    df = seg.segment_document("d", 2020, "en", paras)
    assert df.groupby("sent").para.first().to_dict() == {0: 0, 1: 0, 2: 2}
    assert df[df.sent == 1].text.iloc[0] == "Rules"
    assert df.sent.is_monotonic_increasing
    assert list(df.para.unique()) == [0, 2]
    check_offsets(df, paras)


def test_english_extra_stop_words(tmp_path, cache_dir):
    (tmp_path / "extra.txt").write_text("# comment\nplan\n", encoding="utf-8")
    s = Segmenter({"en_stopwords_extra": "extra.txt"}, tmp_path)
    df = s.segment_document("d", 2020, "en", ["The plan works."])
    assert dict(zip(df.text, df.is_stop)) == {"The": True, "plan": True, "works": False, ".": False}


def test_lemma_table_and_sentence_ends_are_spacys(tmp_path):
    """The lookup lemmas read from the marshal cache (written, then read) are the lookup
    lemmatizer's table, and the sentence ends those of spaCy's sentencizer."""
    nlp = spacy.blank("en")
    sentencizer = nlp.add_pipe("sentencizer")
    nlp.add_pipe("lemmatizer", config={"mode": "lookup"})
    nlp.initialize()
    table = nlp.get_pipe("lemmatizer").lookups.get_table("lemma_lookup")
    for _ in range(2):  # built and written, then read from the cache
        lemmas = segment._lemma_lookup(tmp_path)
        assert dict(lemmas) == dict(table.items())
        for word in ("countries", "were", "data", "ai", "networks", "not-a-word"):
            assert lemmas.get(word, word) == table.get(word, word)
    assert len(list(tmp_path.glob("spacy-lemma-lookup-en.*.marshal"))) == 1
    assert Segmenter({"cache_dir": str(tmp_path)})._cache_dir() == tmp_path
    from spacy.pipeline import Sentencizer  # what _load_en ends a sentence at

    assert frozenset(Sentencizer.default_punct_chars) == frozenset(sentencizer.punct_chars)


def test_english_tokenizer_is_blanks_with_our_affixes(cache_dir):
    """The English tokenizer, built once (``_load_en``: English with spaCy's tokenizer factory given
    our affixes), tokenizes as ``spacy.blank("en")``'s tokenizer with the same affixes and special
    cases set on it: the same tokens, offsets, white space and punctuation flags."""
    from spacy.attrs import IDX, IS_PUNCT, IS_SPACE, ORTH

    for cfg in ({}, {"en_split_hyphens": True}):
        s = Segmenter({"cache_dir": cache_dir, **cfg}, ROOT)
        s.segment_document("d", 2020, "en", ["Hi."])  # loads spaCy
        ours = s._en[0].tokenizer
        reference = spacy.blank("en")
        reference.tokenizer.infix_finditer, reference.tokenizer.suffix_search = ours.infix_finditer, ours.suffix_search
        for case in s.cfg["en_special_cases"]:
            reference.tokenizer.add_special_case(case, [{ORTH: case}])
        texts = ["The U.S. and the E.U. don't agree on 5G. (AI)and intelligence(AI) rules!", "cross-border e-commerce",
                 "Visit https://example.org/a-b?x=1 or mail a@b.cn -- 3.5% of $2,000 in 2024's Q3...", "  Two  spaces\t",
                 "“Quoted” ‘text’ — dashes – and... ellipses; #tags @users :) 100km 10:30am", "AI's role; IT/ICT & R&D"]
        for text in texts:
            got = ours(text).to_array([ORTH, IDX, IS_SPACE, IS_PUNCT]).tolist()
            assert got == reference.tokenizer(text).to_array([ORTH, IDX, IS_SPACE, IS_PUNCT]).tolist(), text


def test_missing_trained_pipeline_says_how_to_install():
    with pytest.raises(RuntimeError, match="python -m spacy download en_core_web_nonexistent"):
        Segmenter({"en_model": "en_core_web_nonexistent"}).segment_document("d", 2020, "en", ["Hi."])


# ---- Chinese -----------------------------------------------------------------


def test_user_dict_terms_are_one_token(seg):
    terms = user_terms()
    assert len(terms) >= 60
    for term in terms:
        for text in (term, f"我们推动{term}的合作", f"各方在{term}领域开展合作。", f"加强{term}和发展"):
            df = seg.segment_document("d", 2020, "zh", [text])
            assert term in list(df.text), (term, list(df.text))


def test_chinese_tokens_stop_words_and_sentences(seg):
    paras = ["我们的数字经济在发展。数据安全很重要!“人工智能向善。”全球南方;AI和5G", "网络空间命运共同体"]
    df = seg.segment_document("d", 2024, "zh", paras)
    assert list(df.text) == [
        "我们", "的", "数字经济", "在", "发展", "。",
        "数据安全", "很", "重要", "!",
        "“", "人工智能", "向善", "。", "”",
        "全球南方", ";",
        "AI", "和", "5G",
        "网络空间命运共同体",
    ]  # fmt: skip
    assert list(df.sent) == [0] * 6 + [1] * 4 + [2] * 5 + [3] * 2 + [4] * 3 + [5]
    flags = df.set_index("text")
    assert flags.loc[["我们", "的", "在", "很", "和"], "is_stop"].all()
    assert not flags.loc[["我们", "的", "在", "很", "和"], "keep"].any()
    assert flags.loc[["。", "!", "“", "”", ";"], "is_punct"].all()
    assert flags.loc["AI", "norm"] == "ai" and flags.loc["5G", "norm"] == "5g"
    assert flags.loc[["数字经济", "发展", "重要", "AI", "5G"], "keep"].all()
    check_offsets(df, paras)


def test_single_characters_and_numbers(seg):
    # a number and its unit are one token, a date, not kept; single characters with content are
    df = seg.segment_document("d", 2024, "zh", ["2024年设站"])
    assert dict(zip(df.text, df.keep)) == {"2024年": False, "设": True, "站": True}


def test_traditional_chinese_gets_simplified_norm(seg):
    paras = ["數字經濟與網絡安全"]
    df = seg.segment_document("d", 2020, "zh", paras)
    assert list(df.text) == ["數字經濟", "與", "網絡安全"]
    assert list(df.norm) == ["数字经济", "与", "网络安全"]
    assert list(df.lemma) == list(df.norm)
    assert list(df.is_stop) == [False, True, False]
    check_offsets(df, paras)


def test_traditional_pieces_converted_once_give_openccs_text(seg):
    """``_to_simplified`` converts the pieces between OpenCC's separators once each: the same text
    as OpenCC's ``convert`` of the whole paragraph."""
    seg.segment_document("d", 2020, "zh", ["預熱"])  # loads jieba and OpenCC
    cc = seg._zh[1]
    texts = ["數字經濟與網絡安全，數字經濟與網絡安全。", "發展—「資訊」（軟體）、數據 2.0 版本！", "简体文本，沒有", "", "。"]
    for text in texts + texts:
        assert seg._to_simplified(text) == cc.convert(text), text
    assert seg._t2s_memo["數字經濟與網絡安全"] == "数字经济与网络安全"


def test_traditional_conversion_that_changes_length_falls_back(seg, monkeypatch):
    tk, cc, stops = seg._zh

    class Lengthening:
        def convert(self, text):
            return cc.convert(text) + "!" if len(text) > 4 else cc.convert(text)

    monkeypatch.setattr(seg, "_zh", (tk, Lengthening(), stops))
    paras = ["數字經濟與網絡安全"]
    df = seg.segment_document("d", 2020, "zh", paras)
    check_offsets(df, paras)
    assert "与" in list(df.norm)


def test_blocks_cut_once_give_jiebas_words(seg):
    """jieba's words of a text are cut per block and kept per distinct block (``_zh_cut``, as the
    words' numbers in the word table): the same words as jieba's ``lcut`` of the whole text,
    repeated blocks and all kinds of runs included; each word's row has its length."""
    from textdrift.segment import _ZH_LENGTH

    seg.segment_document("d", 2020, "zh", ["预热"])  # loads jieba
    tk = seg._zh[0]
    texts = ["推动数字经济发展，推动数字经济发展。", "AI和5G、C++与R&D_2.0-beta 100%的互联网+行动",
             "  两个空格\t制表符\n换行 \u3000全角空格", "“人工智能”（AI）《全球发展倡议》", "", "!!!", "数字经济"]
    for text in texts + texts:  # the second time from the kept blocks
        numbers = [-1]
        seg._zh_cut(text, numbers)
        word = {n: w for w, n in seg._zh_memo.items()}
        assert [word[n] for n in numbers[1:]] == tk.lcut(text, HMM=False), text
        assert seg._zh_word_rows(numbers[1:])[:, _ZH_LENGTH].tolist() == [len(word[n]) for n in numbers[1:]]
    assert "推动数字经济发展" in seg._zh_blocks


def test_hmm_off_is_stable_and_hmm_is_configurable(seg, cache_dir):
    paras = ["张小明在杭州创办了韦恩科技公司"]
    first = seg.segment_document("d", 2020, "zh", paras)
    again = Segmenter({"cache_dir": cache_dir}, ROOT).segment_document("d", 2020, "zh", paras)
    assert first.equals(again)
    assert list(first.text[:3]) == ["张", "小", "明"]  # no invented names with HMM off
    hmm = Segmenter({"cache_dir": cache_dir, "hmm": True}, ROOT).segment_document("d", 2020, "zh", paras)
    assert "张小明" in list(hmm.text)


def test_tokens_do_not_depend_on_the_hash_seed(cache_dir):
    """The user dictionary is tuned in file order: same tokens in every process (PYTHONHASHSEED)."""
    import os
    import subprocess
    import sys

    code = ("import sys; from textdrift.segment import Segmenter; "
            f"s = Segmenter({{'cache_dir': {str(cache_dir)!r}}}, {str(ROOT)!r}); "
            "print('|'.join(s.segment_document('d', 2020, 'zh', ['打击数字经济犯罪，发展数字经济'])['text']))")
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    cuts = {subprocess.run([sys.executable, "-c", code], env={**env, "PYTHONHASHSEED": str(seed)}, check=True,
                           capture_output=True, text=True).stdout.strip() for seed in range(1, 7)}
    assert len(cuts) == 1, cuts


def test_english_loaded_without_spacys_command_line(cache_dir):
    """Loading English imports spaCy without ``spacy.cli`` (typer, rich, httpx: about 0.4 s of each job);
    a later ``import spacy.cli`` is the real package, and ``spacy.info`` still runs the command's function."""
    import os
    import subprocess
    import sys

    code = ("import sys; from textdrift.segment import Segmenter; "
            f"s = Segmenter({{'cache_dir': {str(cache_dir)!r}}}, {str(ROOT)!r}); "
            "assert list(s.segment_document('d', 2020, 'en', ['Data flows.']).text) == ['Data', 'flows', '.']; "
            "gone = [m for m in ('spacy.cli', 'spacy.cli.info', 'typer', 'rich', 'httpx') if m in sys.modules]; "
            "assert not gone, gone; import spacy, spacy.cli; assert callable(spacy.cli.download); "
            "assert spacy.info(silent=True)['spacy_version'] == spacy.__version__")
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    subprocess.run([sys.executable, "-c", code], env=env, check=True)


@pytest.mark.parametrize(
    "content, message",
    [
        ("\ufeff数字经济\n".encode(), "line 1: starts with a UTF-8 BOM"),
        ("数字经济\r\n人工智能\r\n".encode(), "line 1: CR/CRLF"),
        ("数字经济\n人工智能\r\n".encode(), "line 2: CR/CRLF"),
        ("数字经济\n一带 一路 3\n".encode(), "line 2: expected"),
        ("数字·经济\n".encode(), "line 1: '数字·经济' contains characters"),
        (b"\xff\xfe", "line 1: not valid UTF-8"),
    ],
)
def test_bad_user_dict_is_refused_with_file_and_line(tmp_path, cache_dir, content, message):
    path = tmp_path / "bad_dict.txt"
    path.write_bytes(content)
    s = Segmenter({"zh_user_dict": str(path), "cache_dir": cache_dir}, ROOT)
    with pytest.raises(ValueError, match="bad_dict.txt") as err:
        s.segment_document("d", 2020, "zh", ["数字经济"])
    assert message in str(err.value)


def test_stop_list_is_function_words_only():
    stops = (FIXTURE / "config" / "zh_stopwords.txt").read_text(encoding="utf-8").split()
    assert 300 <= len(stops) <= 800 and len(stops) == len(set(stops))
    assert not set(stops) & set(user_terms())
    assert not set(stops) & {"合作", "发展", "数字", "网络", "安全", "国际", "全球", "共同", "数据", "技术"}


# ---- shape, loading, shards -------------------------------------------------


def test_empty_input_gives_typed_empty_table(seg):
    ref = seg.segment_document("d", 2020, "en", ["Some text."]).dtypes
    for lang, paras in [("en", []), ("zh", []), ("en", ["", "   "]), ("zh", [" "])]:
        df = seg.segment_document("d", 2020, lang, paras)
        assert df.empty and list(df.columns) == TOKEN_COLUMNS
        assert df.dtypes.equals(ref)
    assert empty_tokens().dtypes.equals(ref)
    assert segment_shard([], ROOT, {}).dtypes.equals(ref)


def test_unknown_language_and_option_are_errors(seg):
    with pytest.raises(ValueError, match="'fr'"):
        seg.segment_document("d", 2020, "fr", ["Bonjour."])
    with pytest.raises(ValueError, match="hmmm"):
        Segmenter({"hmmm": True})


def test_models_load_once_for_many_documents(monkeypatch, cache_dir):
    import spacy.lang.en

    counts = {"jieba": 0, "spacy": 0}
    real_tokenizer = jieba.Tokenizer

    def counting_tokenizer(*a, **k):
        counts["jieba"] += 1
        return real_tokenizer(*a, **k)

    class CountingEnglish(spacy.lang.en.English):  # what _load_en builds (spacy.blank("en"), its tokenizer given)
        def __init__(self, *a, **k):
            counts["spacy"] += 1
            super().__init__(*a, **k)

    monkeypatch.setattr(jieba, "Tokenizer", counting_tokenizer)
    monkeypatch.setattr(spacy.lang.en, "English", CountingEnglish)
    s = Segmenter({"cache_dir": cache_dir}, ROOT)
    assert counts == {"jieba": 0, "spacy": 0}  # lazy
    for i in range(30):
        s.segment_document(f"z{i}", 2020, "zh", ["推动数字经济发展。"])
        s.segment_document(f"e{i}", 2020, "en", ["Digital economies grow."])
    assert counts == {"jieba": 1, "spacy": 1}


def test_jieba_cache_is_private(cache_dir):
    s = Segmenter({"cache_dir": cache_dir}, ROOT)
    s.segment_document("d", 2020, "zh", ["数字经济"])
    tk = s._zh[0]
    assert tk.tmp_dir == cache_dir and tk.cache_file.startswith("jieba.") and tk.cache_file != "jieba.cache"
    assert any(p.name == tk.cache_file for p in Path(cache_dir).iterdir())
    assert jieba.dt.tmp_dir is None  # the global tokenizer is untouched


def test_segment_shard_and_write_tokens(tmp_path, cache_dir):
    docs = [
        {"doc_id": "a", "year": 2023, "lang": "zh", "paragraphs": ["数字经济与人工智能。", "", "网络安全"]},
        {"doc_id": "a", "year": 2023, "lang": "en", "paragraphs": ["Digital economies grow.", "Rules follow."]},
    ]
    df = segment_shard(docs, ROOT, {"cache_dir": cache_dir})
    zh, en = df[df.lang == "zh"], df[df.lang == "en"]
    assert list(zh.text) == ["数字经济", "与", "人工智能", "。", "网络安全"]
    assert list(zh.para) == [0, 0, 0, 0, 2] and list(zh.sent) == [0, 0, 0, 0, 1]
    assert list(en.para) == [0, 0, 0, 0, 1, 1, 1] and list(en.sent) == [0, 0, 0, 0, 1, 1, 1]
    assert set(df.year) == {2023}
    out = tmp_path / "tokens" / "shard-0.parquet"
    write_tokens(df, out)
    table = pq.read_table(out)
    assert table.schema.remove_metadata().equals(TOKEN_SCHEMA)
    assert table.to_pandas().equals(df)
    assert [p.name for p in out.parent.iterdir()] == [out.name]  # no temp file left
    write_tokens(segment_shard([], tmp_path, {}), out)
    assert pq.read_table(out).num_rows == 0


def test_segmenter_takes_the_schema_defaults():
    from textdrift.config import defaults

    seg = Segmenter({"min_len": 3})
    assert seg.cfg == {**defaults()["segment"], "min_len": 3}
    with pytest.raises(ValueError, match="unknown segment option"):
        Segmenter({"min_length": 3})


def test_few_collections_restores_the_threshold():
    import gc

    before = gc.get_threshold()
    with segment._few_collections(123_456):
        assert gc.get_threshold() == (123_456, *before[1:])
    assert gc.get_threshold() == before


def test_dense_unique_is_numpys_unique():
    """``_dense_unique`` (the attribute numbers' distinct values by flags, not by sorting) gives
    ``np.unique(values, return_inverse=True)``: repeats, gaps, the bound itself minus one, nothing."""
    import numpy as np

    rng = np.random.default_rng(0)
    cases = [np.array([3, 0, 3, 9, 9, 1], dtype=np.int64), np.zeros(0, dtype=np.int64), np.array([4]),
             rng.integers(0, 50, 1000), rng.integers(0, 5000, 200)]
    for values in cases:
        size = int(values.max()) + 1 if len(values) else 0
        for bound in (size, size + 7, 9 * size + 9):  # the flags; np.unique past 8 * len(values)
            distinct, inverse = segment._dense_unique(values, bound)
            expected, expected_inverse = np.unique(values, return_inverse=True)
            assert distinct.tolist() == expected.tolist()
            assert inverse.tolist() == expected_inverse.tolist()
    assert segment._dense_unique(np.array([3, 0, 3, 9]), 10)[1].tolist() == [1, 0, 1, 2]

"""The `theme_matches` memo (textdrift.matchmemo): with it, every file of the rule is byte for byte
the file a full match writes, after any codebook edit; each part of the key makes a miss; a corrupt
entry is recomputed; unused entries are pruned. Hand-built token shards: two languages, a heading,
an entity mention, a glob, context rules, overlapping terms."""

import dataclasses
import logging
from types import SimpleNamespace

import pandas as pd
import pytest

import textdrift.matchmemo as mm
from textdrift.codebook import Rule, Theme
from textdrift.counting import TOKEN_COLUMNS, read_tokens
from textdrift.entities import Entity
from textdrift.matching import match_themes
from textdrift.themes import ThemesSettings, match_shard, write_partial_matches

LANGS = ["zh", "en"]
ENTITIES = [Entity("bri", "initiative", {"en": "Belt and Road"}), Entity("wto", "organisation", {"en": "WTO"})]
STOP = {"the", "a", "of", "and", "is", "的", "和"}


def tokens_of(*paragraphs):
    """Token table from (doc_id, year, lang, para, role, sentences); a token is "text", "text/norm"
    or "text/norm/entity" (a mention: its first token's norm is @id). One ``sent`` per sentence."""
    rows, sent = [], {}
    for doc_id, year, lang, para, role, sentences in paragraphs:
        idx, sep = 0, 0 if lang == "zh" else 1
        for s in sentences:
            n = sent.setdefault((doc_id, lang), 0)
            for tok in s:
                text, norm, entity = (tok.split("/") + ["", ""])[:3]
                norm = norm or text.lower()
                punct = not any(c.isalnum() for c in text)
                stop = norm in STOP
                rows.append(dict(doc_id=doc_id, year=year, lang=lang, para=para, sent=n, idx=idx, text=text,
                                 norm=norm, lemma=text.lower(), is_stop=stop, is_punct=punct,
                                 keep=not (stop or punct), role=role, entity=entity or None))
                idx += len(text) + sep
            sent[(doc_id, lang)] = n + 1
    return pd.DataFrame(rows, columns=TOKEN_COLUMNS).astype({"year": "int32", "para": "int32", "sent": "int32", "entity": "str",
                                                             "idx": "int32"})


def corpus():
    return tokens_of(
        ("a", 2020, "en", 0, "heading", [["Green", "economy", "report"]]),
        ("a", 2020, "en", 1, "body", [["The", "digital", "economy", "and", "the", "digital", "divide", "."],
                                      ["Green", "growth", "is", "green", ",", "not", "a", "green", "card", "."]]),
        ("a", 2020, "en", 2, "body", [["The", "Belt/@bri/bri", "and/and/bri", "Road/road/bri", "supports", "digital",
                                       "trade", "and", "cybersecurity", "."]]),
        ("a", 2020, "en", 3, "body", [["\u201c/@wto/wto", "WTO/wto/wto", "\u201d/\u201d/wto", "rules", "on",
                                       "digital", "trade", "."]]),
        ("b", 2021, "zh", 0, "body", [["数字", "经济", "和", "绿色", "发展", "。"], ["数字经济", "是", "绿色", "的", "。"]]),
        ("b", 2021, "zh", 1, "title", [["绿色", "发展"]]),
        ("c", 2021, "en", 0, "body", [["Digital", "economy", "grows", "."]]),
    )


def codebook():
    return [
        Theme("digital", {"en": "Digital"}, {"en": ("digital economy", "digital", "cyber*"), "zh": ("数字经济",)},
              entities=("bri",)),
        Theme("green", {"en": "Green"}, {"en": ("green", "green growth"), "zh": ("绿色",)},
              rules={"en": {"green": Rule(exclude=("green card",))}}),
        Theme("divide", {"en": "Divide"}, {"en": ("digital divide",)}),
        Theme("trade", {"en": "Trade"}, {"en": ("trade", "rules")},
              rules={"en": {"rules": Rule(near=("digital", "wto"), window=3)}}),
    ]


def shard(tmp_path, toks=None, name="shard-0.parquet"):
    path = tmp_path / name
    (corpus() if toks is None else toks).to_parquet(path)
    return path


def full(path, book, languages=LANGS, settings=None):
    """The rule's files as the code before the memo wrote them (textdrift.themes)."""
    s = settings or ThemesSettings()
    out = path.parent / "full"
    out.mkdir(exist_ok=True)
    files = {k: out / f"{k}.parquet" for k in ("matches", "entity_mentions", "roles", "entities")}
    tokens = read_tokens(path, TOKEN_COLUMNS)
    base = match_shard(path, book, files["matches"], None, languages, s, files["entity_mentions"], tokens)
    write_partial_matches(path, book[0], {v: files[v] for v in ("roles", "entities")}, languages, s.count_roles,
                          s.unspaced_languages, tokens=tokens, base=base)
    return {k: p.read_bytes() for k, p in files.items()}


def memoised(path, book, where, languages=LANGS, settings=None):
    memo = mm.MatchMemo(where)
    return mm.shard_outputs(path, book, languages, settings, memo), memo


def edit(book, what):
    book = list(book)
    if what == "term":
        book[0] = dataclasses.replace(book[0], terms={**book[0].terms, "en": book[0].terms["en"] + ("trade",)})
    elif what == "add":
        book.append(Theme("growth", {"en": "Growth"}, {"en": ("growth", "green growth"), "zh": ("发展",)}))
    elif what == "remove":
        del book[1]
    elif what == "rename":
        book[1] = dataclasses.replace(book[1], id="greenery")
    elif what == "reorder":
        book = book[::-1]
    elif what == "rule":
        book[3] = dataclasses.replace(book[3], rules={"en": {"rules": Rule(near=("digital",), window=1)}})
    elif what == "member":
        book[2] = dataclasses.replace(book[2], entities=("wto",))
    elif what == "unmatched term":
        book[0] = dataclasses.replace(book[0], terms={**book[0].terms, "en": book[0].terms["en"] + ("no such term",)})
    elif what == "term order":
        book[1] = dataclasses.replace(book[1], terms={**book[1].terms, "en": ("green growth", "green")})
    return book


# expected missing (theme, language)s per table (base, roles, entities) of each edit: only what the
# edit touches (an English term: the theme's English entries; a new theme or entity member: both languages)
EDITS = {"none": 0, "term": 1, "add": 2, "remove": 0, "rename": 0, "reorder": 0, "rule": 1, "member": 2,
         "term order": 1, "unmatched term": 0}


def test_a_theme_alone_finds_its_rows_of_the_whole_codebook(tmp_path):
    """What the memo rests on: a theme's matches do not depend on the other themes."""
    tokens = read_tokens(shard(tmp_path), TOKEN_COLUMNS).variant("base")
    whole = match_themes(tokens, codebook())
    assert set(whole["theme"]) == {"digital", "green", "divide", "trade"}
    for theme in codebook():
        alone = match_themes(tokens, [theme])
        mine = whole[whole["theme"] == theme.id].reset_index(drop=True)
        pd.testing.assert_frame_equal(alone, mine)


@pytest.mark.parametrize("what", list(EDITS))
def test_memo_files_equal_a_full_match_after_an_edit(tmp_path, what):
    path = shard(tmp_path)
    book = (codebook(), ENTITIES)
    first, memo = memoised(path, book, tmp_path / "memo")
    assert memo.hits == 0 and first == full(path, book)
    after = (edit(codebook(), what), ENTITIES)
    got, memo = memoised(path, after, tmp_path / "memo")
    assert got == full(path, after)
    assert got == mm.shard_outputs(path, after, LANGS)  # without a memo
    # no entry changed (a term with no candidate in the shard changes none): the files as a whole
    # from the memo (one entry), the entries they were made from kept by the prune
    whole = EDITS[what] == 0 and what in ("none", "unmatched term")
    assert memo.misses == 3 * EDITS[what] + (not whole) and memo.bad == 0
    # else the (theme, language)s and the entity mentions
    assert memo.hits == (1 if whole else 3 * 2 * len(after[0]) - memo.misses + 2)
    if whole:
        assert memo.prune() == 0


@pytest.mark.parametrize("toks", ["no match", "heading only", "no entity column", "one language"])
def test_memo_files_equal_when_tables_are_empty_or_odd(tmp_path, toks):
    t = corpus()
    if toks == "no match":
        t = tokens_of(("a", 2020, "en", 0, "body", [["nothing", "here", "."]]))
    elif toks == "heading only":  # no base match, the roles variant has some
        t = tokens_of(("a", 2020, "en", 0, "heading", [["Green", "digital", "economy"]]),
                      ("a", 2020, "en", 1, "body", [["nothing", "here", "."]]))
    elif toks == "no entity column":
        t = t.drop(columns=["entity"])
    else:
        t = t[t["lang"] == "en"]
    path = shard(tmp_path, t)
    book = (codebook(), ENTITIES)
    memoised(path, book, tmp_path / "memo")
    for what in ("term", "rename", "none"):
        after = (edit(codebook(), what), ENTITIES)
        got, _ = memoised(path, after, tmp_path / "memo")
        assert got == full(path, after), what


@pytest.mark.parametrize("change", ["kwic_window", "unspaced_languages", "count_roles", "languages", "shard", "code",
                                    "entity list"])
def test_each_part_of_the_key_makes_a_miss(tmp_path, change, monkeypatch):
    path = shard(tmp_path)
    book, settings, languages = (codebook(), ENTITIES), ThemesSettings(), LANGS
    memoised(path, book, tmp_path / "memo")
    if change == "kwic_window":
        settings = ThemesSettings(kwic_window=2)
    elif change == "unspaced_languages":
        settings = ThemesSettings(unspaced_languages=("ja",))
    elif change == "count_roles":
        settings = ThemesSettings(count_roles=("body", "heading"))
    elif change == "languages":
        languages = ["en"]
    elif change == "shard":
        t = corpus()
        t.loc[t["text"] == "trade", ["norm", "lemma"]] = "cyberspace"
        shard(tmp_path, t)
    elif change == "code":
        monkeypatch.setattr(mm, "code_digest", lambda: "another code")
    else:
        book = (codebook(), ENTITIES[:1])
    got, memo = memoised(path, book, tmp_path / "memo", languages, settings)
    assert got == full(path, book, languages, settings)
    entries = 3 * 4 * len(languages) + 1  # (theme, language) per table, the entity mentions
    expected = {"kwic_window": 4 * 2 + 1, "entity list": 1}.get(change, entries)  # the variants have no context
    # plus the shard's files as a whole, which every change makes a miss
    assert memo.misses == expected + 1 and memo.hits == entries - expected


@pytest.mark.parametrize("damage", ["flip", "truncate", "empty", "garbage", "other key"])
@pytest.mark.parametrize("whole", [False, True])
def test_a_corrupt_entry_is_recomputed_and_logged(tmp_path, damage, whole, caplog):
    path = shard(tmp_path)
    book = (codebook(), ENTITIES)
    memoised(path, book, tmp_path / "memo")
    keys = mm.MemoKeys(path, LANGS, ThemesSettings())
    files = keys.files(mm._Job(SimpleNamespace(languages=LANGS), codebook(), None, keys), keys.entities(ENTITIES))
    victim = tmp_path / "memo" / f"{keys.theme(codebook()[1], 'base', 'en')}.memo"
    if whole:  # the shard's files as a whole damaged: every entry read instead
        victim = tmp_path / "memo" / f"{files}.memo"
    else:  # (without the files as a whole, which would be taken, the damaged entry is read)
        (tmp_path / "memo" / f"{files}.memo").unlink()
    data = victim.read_bytes()
    if damage == "flip":
        data = data[:-20] + bytes([data[-20] ^ 1]) + data[-19:]
    elif damage == "truncate":
        data = data[: len(data) // 2]
    elif damage == "empty":
        data = b""
    elif damage == "garbage":
        data = b"not an entry at all"
    else:  # a valid entry, of another key, under this name
        data = (tmp_path / "memo" / f"{keys.theme(codebook()[0], 'base', 'en')}.memo").read_bytes()
    victim.write_bytes(data)
    with caplog.at_level(logging.WARNING, logger="textdrift"):
        got, memo = memoised(path, book, tmp_path / "memo")
    assert got == full(path, book)
    assert memo.bad == 1 and memo.misses == 1 + (not whole) and "corrupt" in caplog.text
    assert mm.MatchMemo(tmp_path / "memo").get(keys.theme(codebook()[1], "base", "en")) is not None  # stored again
    assert mm._unpack(mm.MatchMemo(tmp_path / "memo").get(files)) == got  # stored again


def test_pruning_keeps_only_the_entries_a_job_used(tmp_path):
    path = shard(tmp_path)
    where = tmp_path / "memo"
    _, first = memoised(path, (codebook(), ENTITIES), where)
    distinct = len(first.used)  # (theme, language)s of the same content share an entry: zh of divide and trade
    assert distinct == 25 - 3 + 1 and len(list(where.iterdir())) == distinct  # + the files as a whole
    (where / ".abc.memo.123.tmp").write_bytes(b"left by a killed job")
    after = (edit(codebook(), "term"), ENTITIES)
    _, memo = memoised(path, after, where)
    # the old English digital entries, the old files as a whole and the temporary file
    assert len(list(where.iterdir())) == distinct + 3 + 1 + 1
    assert memo.prune() == 3 + 1 + 1
    assert sorted(p.stem for p in where.iterdir()) == sorted(memo.used) and len(memo.used) == distinct


def test_an_unusable_directory_only_misses(tmp_path):
    path = shard(tmp_path)
    (tmp_path / "file").write_text("a file, not a directory")
    book = (codebook(), ENTITIES)
    got, memo = memoised(path, book, tmp_path / "file" / "memo")
    assert got == full(path, book) and not memo.usable and memo.prune() == 0


def test_the_rule_writes_the_files_and_logs_hits(tmp_path):
    """run_theme_matches as the rule calls it; the memo's directory from the configuration."""
    path = shard(tmp_path, name="shard-3.parquet")
    cbk = tmp_path / "themes.yaml"
    cbk.write_text("themes:\n  - {id: green, label_en: Green, en: [green, green growth], zh: [绿色]}\n"
                   "  - {id: digital, label_en: Digital, en: [digital economy], zh: [数字经济]}\n", encoding="utf-8")
    out = tmp_path / "out"
    o = SimpleNamespace(matches=out / "m.parquet", entities=out / "e.parquet",
                        check_matches=[out / "roles.parquet", out / "entities.parquet"])
    i = SimpleNamespace(tokens=str(path), codebook=str(cbk), schema=None, get=lambda k, d=None: d)
    p = SimpleNamespace(languages=LANGS, kwic_window=8, unspaced_languages=["zh"], count_roles=["body"])
    config = {"processed_dir": str(tmp_path / "data" / "processed"), "theme_matches": {"memo": True}}
    for run in range(2):
        log = tmp_path / f"log{run}.txt"
        mm.run_theme_matches(i, o, p, [str(log)], config)
        text = log.read_text(encoding="utf-8")
        assert ("0 entries read" in text) == (run == 0) and ("the files copied from the memo" in text) == (run == 1)
    assert sorted(p.name for p in (tmp_path / "data" / "cache" / "theme_matches").iterdir()) == ["shard-3"]
    book = mm.CodebookFiles(cbk).load()
    want = full(path, book, LANGS, ThemesSettings(unspaced_languages=("zh",)))
    assert [f.read_bytes() for f in (o.matches, o.entities, *o.check_matches)] == \
        [want[k] for k in ("matches", "entity_mentions", "roles", "entities")]
    off = {**config, "theme_matches": {"memo": False}}
    assert mm.memo_for(off, path) is None and mm.memo_for(None, path) is None


def test_codebooks_matched_together_equal_each_alone(tmp_path):
    """match_codebooks prepares each language's tokens once for several codebooks (the cold job: the
    entity list and the codebook): each table is the one match_themes gives on its own; without
    context, the same rows and columns less the match's text and context."""
    from textdrift.codebook import entity_codebook
    from textdrift.matching import MATCH_COLUMNS, match_codebooks

    tokens = read_tokens(shard(tmp_path), TOKEN_COLUMNS).variant("base")
    books = [entity_codebook(ENTITIES, LANGS), codebook(), [codebook()[1]], []]
    together = match_codebooks(tokens, books, 3)
    assert len(together) == 4 and len(together[0]) and len(together[1]) > len(together[2]) > 0
    for book, table in zip(books, together):
        pd.testing.assert_frame_equal(table, match_themes(tokens, book, 3))
    short = match_codebooks(tokens, books, 3, context=False)
    for book, table in zip(books, short):
        keep = [c for c in MATCH_COLUMNS if c not in ("end_idx", "left", "match", "right")]
        assert list(table.columns) == keep
        pd.testing.assert_frame_equal(table, match_themes(tokens, book, 3)[keep])


def test_split_finds_the_rows_of_each_cell():
    """matchmemo._split: each (theme, language)'s rows in the table's order, none of a theme or
    language not in the cells (a missing one included), as the per-row lookup it replaces."""
    df = pd.DataFrame({"doc_id": ["a", "b", "c", "d", "e", "f"], "theme": ["t", "u", "t", None, "v", "t"],
                       "lang": ["en", "en", "zh", "en", "en", "en"]})
    schema = mm.pa.schema([("doc_id", mm.pa.large_string()), ("lang", mm.pa.large_string())])
    cells = [("t", "en"), ("u", "en"), ("t", "zh"), ("w", "en"), ("u", "zh")]
    got = [t.column("doc_id").to_pylist() for t in mm._split(df, cells, schema)]
    expect = [[d for d, t, x in zip(df["doc_id"], df["theme"], df["lang"]) if (t, x) == cell] for cell in cells]
    assert got == expect == [["a", "f"], ["b"], ["c"], [], []]


# terms of each kind that match in corpus(): a word, two words, globs, a word only in a heading (the
# roles variant), a word only as the lemma of a name's head (the entities variant), an entity member,
# Chinese cut across tokens, inside one token's cut, a glob; and terms that match nothing
MATCHING = {"en": ["growth", "digital trade", "cyber*", "dig?tal", "[gG]reen", "report", "belt", "@wto"],
            "zh": ["数字经济", "绿色发展", "经济", "*经济", "@bri"]}
NOTHING = {"en": ["benchmark added term", "cyberz*", "digital bridge", "belts"], "zh": ["不存在", "*不存在", "数字银行"]}


def test_a_term_the_vocabulary_rules_out_matches_nothing_in_any_table(tmp_path):
    """matching.Vocabulary.may_match (the memo's keys leave such terms out): every term that matches
    in the base tokens, in every role or with names as words has may_match True; the test is not
    empty (each term of MATCHING matches somewhere, each of NOTHING is ruled out)."""
    from textdrift.counting import VARIANTS

    path = shard(tmp_path)
    tokens = read_tokens(path, TOKEN_COLUMNS)
    words = mm.MemoKeys(path, LANGS, ThemesSettings(), code="x").vocabulary()
    tables = [tokens.variant(v) for v in VARIANTS]
    for lang in LANGS:
        unspaced = lang in ThemesSettings().unspaced_languages
        for term in MATCHING[lang] + NOTHING[lang] + sorted({w for w in words.list if w})[:40]:
            member = term.startswith("@")
            theme = Theme("t", {"en": "T"}, {lang: () if member else (term,)}, entities=(term[1:],) if member else ())
            found = sum(len(match_themes(t, [theme], 0)) for t in tables)
            assert not found or words.may_match(term, unspaced), (lang, term)
            if term in MATCHING[lang]:
                assert found, (lang, term)
            if term in NOTHING[lang]:
                assert not words.may_match(term, unspaced), (lang, term)


@pytest.mark.parametrize("term", ["benchmark added term", "cyberz*", "report", "belt", "growth", "@wto"])
def test_an_added_term_that_matches_nothing_rematches_nothing(tmp_path, term):
    """After adding a term (or an entity member) to a theme, the shard's tables equal a full match; the
    theme is rematched only when the term can match in the shard: in a heading ("report": the roles
    variant), as a name's lemma ("belt": names as words), or anywhere; not "benchmark added term"."""
    path = shard(tmp_path)
    memoised(path, (codebook(), ENTITIES), tmp_path / "memo")
    book = codebook()
    if term.startswith("@"):
        book[2] = dataclasses.replace(book[2], entities=(term[1:],))
    else:
        book[2] = dataclasses.replace(book[2], terms={**book[2].terms, "en": book[2].terms["en"] + (term,)})
    after = (book, ENTITIES)
    got, memo = memoised(path, after, tmp_path / "memo")
    assert got == full(path, after)
    nothing = term in ("benchmark added term", "cyberz*")
    # nothing: the shard's files as a whole from the memo; else its entry missed too
    assert memo.misses == (0 if nothing else 3 * (2 if term.startswith("@") else 1) + 1), term
    assert memo.hits == 1 or not nothing

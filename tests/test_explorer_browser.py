"""results/explorer.html in a real browser (headless Chromium through Selenium): clicking a theme
point and a phrase shows the rows of theme_kwic.csv and phrase_changes.csv behind them, hostile
text in a document is shown as text and runs nothing, and the page makes no network request.

Reads the session's run of the tests' copy of the shipped corpus plus a document whose title and
paragraphs carry markup (`</script>`, `<script>`, `<img onerror>`) and one of 2025 (conftest's
``grown_run``, shared with tests/test_notebooks.py; the explorer there shows up to 100 contexts per
cell). Needs Chromium and its driver (Debian/Ubuntu, as root: `apt-get install chromium chromium-driver`; `.ci/run` installs them);
without them the test is skipped, saying so."""

import json
import os
import shutil
import time

import pandas as pd
import pytest

from conftest import HOSTILE_TITLE
from textdrift.config import load_yaml, with_defaults

pytestmark = pytest.mark.e2e

BROWSER = next((p for p in map(shutil.which, ["chromium", "chromium-browser", "google-chrome"]) if p), None)
DRIVER = shutil.which("chromedriver")
HOW = ("needs Chromium and ChromeDriver: `apt-get install chromium chromium-driver` (Debian/Ubuntu, as root; "
       "`.ci/run` does it), then rerun")


@pytest.fixture(scope="module")
def explorer_run(grown_run):
    return grown_run


@pytest.fixture(scope="module")
def browser():
    if not (BROWSER and DRIVER):
        pytest.skip(f"no headless browser for the explorer test: {HOW}")
    webdriver = pytest.importorskip("selenium.webdriver", reason=HOW)
    from selenium.webdriver.chrome.service import Service

    os.environ.setdefault("SE_OFFLINE", "true")  # never let Selenium Manager download anything
    opts = webdriver.ChromeOptions()
    opts.binary_location = BROWSER
    for arg in ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1400,1000"]:
        opts.add_argument(arg)
    opts.set_capability("goog:loggingPrefs", {"performance": "ALL", "browser": "ALL"})
    driver = webdriver.Chrome(service=Service(DRIVER), options=opts)
    yield driver
    driver.quit()


def _open(driver, page):
    start = time.time()
    driver.get(page.as_uri())
    while not driver.execute_script("return document.body.dataset.ready") and time.time() - start < 20:
        time.sleep(0.05)
    assert driver.execute_script("return document.body.dataset.ready") == "1", "the page did not finish drawing"
    return time.time() - start


def _rows(driver, selector):
    return driver.execute_script(
        "return [...document.querySelectorAll(arguments[0])].map(tr => [...tr.cells].map(td => td.textContent))",
        selector)


def test_explorer_in_the_browser(browser, explorer_run):  # no browser: skipped before any run
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    work, d = explorer_run, browser
    tables = work / "results/tables"
    seconds = _open(d, work / "results/explorer.html")
    assert seconds < 10, f"the page took {seconds:.1f} s to draw"

    # Themes: click the point of (digital economy, en, 2023) -> the theme_kwic.csv rows behind it
    kwic = pd.read_csv(tables / "theme_kwic.csv", keep_default_na=False)
    freq = pd.read_csv(tables / "theme_frequencies.csv")
    Select(d.find_element(By.ID, "theme-lang")).select_by_value("en")
    time.sleep(0.3)
    label = "Digital economy"
    point = next(p for p in d.find_elements(By.CSS_SELECTOR, "#theme-chart g.mark-symbol path")
                 if f"theme: {label};" in (p.get_attribute("aria-label") or "")
                 and "year: 2023;" in p.get_attribute("aria-label"))
    ActionChains(d).move_to_element(point).click().perform()
    time.sleep(0.3)
    assert d.find_element(By.ID, "theme-contexts").get_attribute("data-cell") == "digital_economy|en|2023"
    shown = _rows(d, "#theme-contexts tbody tr")
    want = kwic[(kwic["theme"] == "digital_economy") & (kwic["lang"] == "en") & (kwic["year"] == 2023)
                & (kwic["kind"] == "theme")]
    count = int(freq.query("theme == 'digital_economy' and lang == 'en' and year == 2023")["count"].iloc[0])
    cap = with_defaults(load_yaml(work / "config/config.yaml"))["explorer"]["contexts_per_cell"]
    assert len(want) == count and 0 < len(shown) == min(count, cap)
    cols = ["doc_id", "para", "role", "term", "left", "match", "right"]
    table_rows = {tuple(str(v) for v in r) for r in want[cols].itertuples(index=False)}
    assert {tuple(r[:7]) for r in shown} <= table_rows
    if count <= cap:
        assert {tuple(r[:7]) for r in shown} == table_rows
    assert f"{count} matches" in d.find_element(By.ID, "theme-contexts").text
    assert (f"Showing {cap} of {count}" if count > cap else f"All {count}") in d.find_element(By.ID, "theme-contexts").text
    # the hostile document's matches are shown as text: its markup is in the cells, not in the page
    assert any("<script>" in "".join(r) or "<img" in "".join(r) for r in shown)

    # Phrases: the first rising phrase of English 2023 -> 2024: its counts and sentences in both years
    phrases = pd.read_csv(tables / "phrase_changes.csv", keep_default_na=False)
    d.find_element(By.CSS_SELECTOR, "button[data-view=phrases]").click()
    Select(d.find_element(By.ID, "phrase-lang")).select_by_value("en")
    Select(d.find_element(By.ID, "phrase-step")).select_by_visible_text("2023 → 2024")
    first = _rows(d, "#phrase-up tbody tr")[0]
    d.find_element(By.CSS_SELECTOR, "#phrase-up tbody tr").click()
    time.sleep(0.2)
    phrase = d.find_element(By.ID, "phrase-contexts").get_attribute("data-phrase")
    row = phrases.query("lang == 'en' and year_from == 2023 and year_to == 2024 and phrase == @phrase").iloc[0]
    step = phrases.query("lang == 'en' and year_from == 2023 and year_to == 2024")
    assert row["z"] == step["z"].max() and first[0] == row["display"]
    assert first[2:4] == [str(row["count_from"]), str(row["count_to"])]
    cap_phrase = with_defaults(load_yaml(work / "config/config.yaml"))["explorer"]["phrase_contexts"]
    # the step's documents: its tfidf_drift.csv row (the phrase table names only its genre_match)
    drift = pd.read_csv(tables / "tfidf_drift.csv", keep_default_na=False)
    sides = drift.query("lang == 'en' and year_from == 2023 and year_to == 2024").iloc[0]
    for year, n, docs in [(2023, row["count_from"], sides["docs_from"]), (2024, row["count_to"], sides["docs_to"])]:
        col = d.find_element(By.CSS_SELECTOR, f'#phrase-contexts .year-col[data-year="{year}"]')
        items = col.find_elements(By.CSS_SELECTOR, "li")
        assert 0 < len(items) <= min(n, cap_phrase) if n else not items
        for li in items:
            marked = li.find_element(By.TAG_NAME, "mark").text.lower()
            assert marked and li.find_element(By.CLASS_NAME, "src").text.split(" ¶")[0] in docs.split(";")
            if " " not in phrase and not phrase.startswith("@"):  # a one-word phrase: its lemma's form is marked
                assert marked[:3] == phrase[:3]

    # Any term: an inflected form finds its lemma; the hostile sentences are text
    d.find_element(By.CSS_SELECTOR, "button[data-view=terms]").click()
    d.find_element(By.ID, "term-query").send_keys("markets")
    time.sleep(0.3)
    assert d.find_element(By.ID, "term-contexts").get_attribute("data-term") == "market"
    d.find_element(By.ID, "term-query").clear()
    d.find_element(By.ID, "term-query").send_keys("quokka")
    time.sleep(0.3)
    assert d.find_element(By.ID, "term-contexts").get_attribute("data-term") == "quokka"
    assert "<script>window.__pwned = 1</script>" in d.find_element(By.ID, "term-contexts").text

    # New formulations: the rows of new_formulations.csv for the language and year chosen, in rank
    # order; a click shows its example sentence and opens the formulation in Any term
    d.find_element(By.CSS_SELECTOR, "button[data-view=formulations]").click()
    time.sleep(0.3)
    F = pd.read_csv(work / "results/tables/new_formulations.csv")
    lang, year = F.loc[F["status"] == "new", ["lang", "year"]].iloc[0]  # a language and year with new ones
    Select(d.find_element(By.ID, "form-lang")).select_by_value(lang)
    Select(d.find_element(By.ID, "form-year")).select_by_value(str(year))
    want = F[(F["lang"] == lang) & (F["year"] == year) & (F["status"] == "new")].sort_values("rank")
    assert len(want)
    shown = _rows(d, "#form-new tbody tr")
    assert [r[1] for r in shown] == want["formulation"].tolist()
    d.find_element(By.CSS_SELECTOR, "#form-new tbody tr").click()
    box = d.find_element(By.ID, "form-contexts")
    assert box.get_attribute("data-formulation") == want["formulation"].iloc[0]
    assert want["example"].iloc[0] in box.text
    box.find_element(By.TAG_NAME, "button").click()
    time.sleep(0.3)
    assert d.find_element(By.ID, "term-query").get_attribute("value") == want["formulation"].iloc[0]
    assert d.find_element(By.ID, "view-terms").is_displayed()

    # Drift and documents: the hostile title is text in the documents table
    d.find_element(By.CSS_SELECTOR, "button[data-view=drift]").click()
    time.sleep(0.3)
    assert HOSTILE_TITLE in [r[3] for r in _rows(d, "#doc-table tbody tr")]
    assert d.find_elements(By.CSS_SELECTOR, "#drift-chart svg")

    # nothing ran, nothing was injected, nothing was loaded
    assert d.execute_script("return window.__pwned") is None
    assert not d.find_elements(By.CSS_SELECTOR, "main img, main iframe")
    assert len(d.find_elements(By.TAG_NAME, "script")) == 4
    errors = [e for e in d.get_log("browser") if e["level"] == "SEVERE"]
    assert not errors, errors
    requests = [json.loads(e["message"])["message"] for e in d.get_log("performance")]
    urls = {m["params"]["request"]["url"] for m in requests if m["method"] == "Network.requestWillBeSent"}
    assert urls == {(work / "results/explorer.html").as_uri()}, urls

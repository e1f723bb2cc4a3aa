"""Test documents made by the tests themselves: PDF (fpdf2, a dev dependency, LGPL-3.0, used only to
write test files; with the Noto Sans CJK font that mplfonts ships) and Word .docx (python-docx).

The source text of each is known, so the tests compare what extraction returns with it.
"""

from __future__ import annotations

import re
from pathlib import Path

import mplfonts

FONT = Path(mplfonts.__file__).parent / "fonts" / "NotoSansCJKsc-Regular.otf"
SOFT = "\u00ad"  # in a source paragraph: where the writer may hyphenate a word at a line end

EN_CLAUSES = [
    "digital cooperation has become an important driver of international development",
    "the parties agree to expand broadband access in rural areas",
    "networks of higher quality will be built with shared standards",
    "experience in building inter" + SOFT + "national data centres is shared among members",
    "small and medium enterprises join cross-border electronic commerce",
    "cloud services are offered to public institutions at a fair price",
    "staff are trained in the skills that the digital economy needs",
    "the benefits reach more people in more places than before",
    "progress is reviewed every year by a joint committee",
    "cooperation on cybersecurity respects the sovereignty of each state",
    "information on threats is exchanged through agreed channels",
    "capacity is built in developing countries with open tools",
    "common rules are sought through the United Nations and other multi" + SOFT + "lateral forums",
    "data flows across borders follow laws that protect privacy",
    "artificial intelligence is developed for the good of all",
    "the digital divide between cities and villages is narrowed",
    "satellite navigation serves farmers, fishermen and drivers",
    "young people learn to code in schools and libraries",
    "smart cities use sensors to save energy and water",
    "mobile payments make trade easier for street vendors",
]
ZH_CLAUSES = [
    "数字合作已经成为推动国际发展的重要动力", "各方同意扩大农村地区宽带接入", "按照共同标准建设更高质量的网络",
    "成员之间分享建设国际数据中心的经验", "中小企业参与跨境电子商务", "以合理价格向公共机构提供云服务",
    "培训员工掌握数字经济所需的技能", "让发展成果惠及更多地方的更多人民", "联合委员会每年评估进展情况",
    "网络安全合作尊重各国主权", "通过约定渠道交流威胁信息", "利用开放工具帮助发展中国家建设能力",
    "通过联合国和其他多边论坛制定共同规则", "跨境数据流动遵守保护隐私的法律", "发展造福全人类的人工智能",
    "缩小城乡之间的数字鸿沟", "卫星导航服务农民、渔民和司机", "青少年在学校和图书馆学习编程",
    "智慧城市利用传感器节约能源和水", "移动支付便利街头商贩开展贸易",
]


def paragraphs(lang: str, n: int, seed: int = 0) -> list[str]:
    """``n`` distinct paragraphs of 3-5 clauses each (with soft hyphens where a word may break)."""
    import random

    rng = random.Random(seed)
    pool = EN_CLAUSES if lang == "en" else ZH_CLAUSES
    out = []
    for _ in range(n):
        clauses = rng.sample(pool, rng.randint(3, 5))
        if lang == "en":
            text = ", ".join(clauses[:-1]) + " and " + clauses[-1] + "."
            out.append(text[0].upper() + text[1:])
        else:
            out.append("，".join(clauses) + "。")
    return out


EN_PARAS = paragraphs("en", 3)
ZH_PARAS = paragraphs("zh", 3)


def source_text(paras: list[str]) -> str:
    """The text a reader sees: soft hyphens gone."""
    return "\n".join(p.replace(SOFT, "") for p in paras)


def _wrap(pdf, text: str, width: float, first_indent: float) -> list[str]:
    """Greedy line breaking; Chinese by character, English by word, hyphenating at a soft hyphen."""
    unspaced = bool(re.search(r"[\u4e00-\u9fff]", text))
    tokens = list(text) if unspaced else text.split(" ")
    lines, line = [], ""
    limit = width - first_indent
    for tok in tokens:
        sep = "" if unspaced or not line else " "
        cand = line + sep + tok
        if pdf.get_string_width(cand.replace(SOFT, "")) <= limit:
            line = cand
            continue
        if SOFT in tok:
            head, tail = tok.split(SOFT, 1)
            if pdf.get_string_width(line + sep + head + "-") <= limit:
                lines.append(line + sep + head + "-")
                line, limit = tail, width
                continue
        lines.append(line)
        line, limit = tok, width
    lines.append(line)
    return [ln.replace(SOFT, "") for ln in lines]


def make_pdf(path: Path, columns: list[list[str]], header: str | None = "Digital Cooperation Report 2024",
             page_number: str | None = "- {n} -", title: str | None = None, size: float = 11,
             lines_per_page: int = 16, middle_footer: str | None = None, blank_image_page: bool = False,
             metadata: dict | None = None) -> Path:
    """A PDF with a text layer: ``columns`` (one list of paragraphs per column, side by side),
    a running header, a page number in ``page_number``'s form ({n}), first-line indents,
    a title in a larger font; ``blank_image_page`` adds a last page holding only an image (a scan)."""
    from fpdf import FPDF

    pdf = FPDF(unit="pt", format="A4")
    pdf.set_auto_page_break(False)
    pdf.add_font("noto", fname=str(FONT))
    for key, value in (metadata or {}).items():
        getattr(pdf, f"set_{key}")(value)
    width_all = pdf.w - 2 * 60
    gap = 24
    col_w = (width_all - gap * (len(columns) - 1)) / len(columns)
    lead = size * 1.5
    # every column's lines: (text, indent, size, extra space before)
    flows = []
    for paras in columns:
        pdf.set_font("noto", size=size)
        flow = []
        for para in paras:
            wrapped = _wrap(pdf, para, col_w, 2 * size)
            for k, ln in enumerate(wrapped):
                flow.append((ln, 2 * size if k == 0 else 0, size, lead * 0.6 if k == 0 else 0))
        flows.append(flow)
    n = 0
    pos = [0] * len(columns)
    while any(p < len(f) for p, f in zip(pos, flows)):
        n += 1
        pdf.add_page()
        if header:
            pdf.set_font("noto", size=9)
            pdf.text(60, 40, header)
        if page_number:
            pdf.set_font("noto", size=9)
            label = page_number.format(n=n)
            pdf.text(pdf.w / 2 - pdf.get_string_width(label) / 2, pdf.h - 30, label)
        top = 90
        if n == 1 and title:
            pdf.set_font("noto", size=size * 1.6)
            pdf.text(60, top, title)
            top += size * 3
        for c, flow in enumerate(flows):
            y = top
            x0 = 60 + c * (col_w + gap)
            count = 0
            while pos[c] < len(flow) and count < lines_per_page:
                text, indent, sz, before = flow[pos[c]]
                y += before if count else 0
                pdf.set_font("noto", size=sz)
                pdf.text(x0 + indent, y, text)
                y += lead
                pos[c] += 1
                count += 1
        if middle_footer:
            pdf.set_font("noto", size=8)
            pdf.text(60, top + (lines_per_page + 3) * lead, middle_footer)
    if blank_image_page:
        from PIL import Image

        img = Image.new("RGB", (400, 300), "white")
        for x in range(40, 360):
            for y in range(100, 104):
                img.putpixel((x, y), (0, 0, 0))
        pdf.add_page()
        pdf.image(img, x=60, y=80, w=400)
    pdf.output(str(path))
    return path


def make_docx(path: Path, title: str, sections: list[tuple[str, list[str]]], table: list[list[str]] | None = None,
              footnote: str | None = None, core_title: str | None = None) -> Path:
    """A .docx: a Title, headings (Heading 1) with paragraphs, a table, and a footnote (attached to
    the first body paragraph: python-docx writes no footnotes, so the part is added by hand)."""
    import docx
    from docx.opc.constants import RELATIONSHIP_TYPE as RT
    from docx.opc.packuri import PackURI
    from docx.opc.part import Part
    from docx.oxml import parse_xml
    from docx.oxml.ns import nsdecls

    d = docx.Document()
    if core_title:
        d.core_properties.title = core_title
    d.add_heading(title, level=0)
    first = None
    for heading, paras in sections:
        d.add_heading(heading, level=1)
        for text in paras:
            p = d.add_paragraph(text)
            first = first or p
    if table:
        t = d.add_table(rows=len(table), cols=len(table[0]))
        for r, row in enumerate(table):
            for c, cell in enumerate(row):
                t.cell(r, c).text = cell
    if footnote:
        w = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
        xml = (f'<w:footnotes xmlns:w="{w}">'
               '<w:footnote w:type="separator" w:id="-1"><w:p><w:r><w:separator/></w:r></w:p></w:footnote>'
               '<w:footnote w:type="continuationSeparator" w:id="0"><w:p><w:r><w:continuationSeparator/></w:r>'
               '</w:p></w:footnote>'
               f'<w:footnote w:id="1"><w:p><w:r><w:t xml:space="preserve">{footnote}</w:t></w:r></w:p></w:footnote>'
               '</w:footnotes>').encode()
        part = Part(PackURI("/word/footnotes.xml"),
                    "application/vnd.openxmlformats-officedocument.wordprocessingml.footnotes+xml", xml, d.part.package)
        d.part.relate_to(part, RT.FOOTNOTES)
        first._p.append(parse_xml(f'<w:r {nsdecls("w")}><w:footnoteReference w:id="1"/></w:r>'))
    d.save(str(path))
    return path

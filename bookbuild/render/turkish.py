"""Render-stage helper: a Sphinx extension that makes the site Turkish where Sphinx is not yet.

* docutils ships no Turkish module: its few generated labels (admonitions,
  contents, bibliographic fields) come from `labels`, registered as
  ``docutils.languages.tr``. Directive and role names stay English.
* Search folds case by Turkish rules (İ→i, I→ı) in the index and in the query, so
  "DIŞBÜKEY" finds what "dışbükey" finds. Sphinx lower-cases with the default
  rules (I→i, İ→i̇) on both sides.
* Search also folds to ASCII (ı→i, ş→s, ğ→g, ü→u, ö→o, ç→c), for readers on keyboards
  without Turkish letters: "disbukey" finds dışbükey, "IVME" finds ivme. Each indexed
  word with such a letter is indexed once more, folded and then stemmed, under a marked
  term (`FOLDED`); static/d2l-search.js folds and stems the query the same way, looks
  both up, and ranks what only the folded form finds below the exact matches.
* The browser's message catalog (translations.js): Sphinx's Turkish one leaves
  the search result count empty and its plural rule returns a boolean, which
  breaks every search that finds something. The catalog is written anew from
  Sphinx's Turkish messages and ours (locale/tr/LC_MESSAGES/sphinx.po), with a
  plural rule that returns an index.
"""
from __future__ import annotations

import json
import re
import sys
import types
from pathlib import Path

labels = {
    "author": "Yazar", "authors": "Yazarlar", "organization": "Kurum", "address": "Adres",
    "contact": "İletişim", "version": "Sürüm", "revision": "Revizyon", "status": "Durum",
    "date": "Tarih", "copyright": "Telif hakkı", "dedication": "İthaf", "abstract": "Özet",
    "attention": "Dikkat!", "caution": "Uyarı!", "danger": "!TEHLİKE!", "error": "Hata",
    "hint": "İpucu", "important": "Önemli", "note": "Not", "tip": "İpucu", "warning": "Uyarı",
    "contents": "İçindekiler",
}
bibliographic_fields = {turkish.lower(): field for field, turkish in labels.items()
                        if field in ("author", "authors", "organization", "address", "contact", "version",
                                     "revision", "status", "date", "copyright", "dedication", "abstract")}
author_separators = [";", ","]

PLURAL_RULE = "n == 1 ? 0 : 1"   # an index into (singular, plural), as Sphinx's ngettext needs


FOLDED = "~"   # marks a folded term in the search index; never part of a query word
ASCII_FOLDING = str.maketrans("çğıöşüâîû", "cgiosuaiu")


def turkish_lower(text: str) -> str:
    return text.replace("I", "ı").replace("İ", "i").lower()


def ascii_fold(word: str) -> str:
    return turkish_lower(word).translate(ASCII_FOLDING)


def register_docutils_language() -> None:
    sys.modules.setdefault("docutils.languages.tr", sys.modules[__name__])
    rst = types.ModuleType("docutils.parsers.rst.languages.tr")
    vars(rst).update(directives={}, roles={})  # what docutils reads from a language module
    sys.modules.setdefault("docutils.parsers.rst.languages.tr", rst)


def search_language():
    from sphinx.search.tr import SearchTurkish

    class TurkishSearch(SearchTurkish):
        """Sphinx's Turkish search, with Turkish case folding on both sides."""
        # Replaces searchtools.js's splitQuery: the query's words, lower-cased by Turkish rules. And
        # the index's ASCII folding, for static/d2l-search.js (language_data.js holds both).
        js_splitter_code = ("function splitQuery(query) {\n"
                            "  return query.toLocaleLowerCase('tr')\n"
                            "    .split(/[^\\p{Letter}\\p{Number}_\\p{Emoji_Presentation}]+/gu)\n"
                            "    .filter((term) => term);\n"
                            "}\n"
                            f"const FOLDED_TERM = {json.dumps(FOLDED)};\n"
                            f"const ASCII_FOLDING = {json.dumps({chr(k): chr(v) for k, v in ASCII_FOLDING.items()})};\n"
                            "const asciiFold = (word) => word.toLocaleLowerCase('tr')\n"
                            "  .replace(/./gu, (letter) => ASCII_FOLDING[letter] || letter);")

        def split(self, text: str) -> list[str]:
            words = super().split(text)
            return words + [FOLDED + folded for word in words if (folded := ascii_fold(word)) != turkish_lower(word)]

        def stem(self, word: str) -> str:
            # Once per word, not per occurrence: stemming every word of the whole book with snowball's
            # pure-Python stemmer took a quarter of its render (PyStemmer, compiled, is used where installed).
            stems = self.__dict__.setdefault("_stems", {})
            if word not in stems:
                stems[word] = (FOLDED + self.stemmer.stemWord(word[len(FOLDED):]) if word.startswith(FOLDED)
                               else self.stemmer.stemWord(turkish_lower(word)))
            return stems[word]

    return TurkishSearch


def write_browser_catalog(app, config) -> None:
    """`config-inited`: locale/tr/LC_MESSAGES/sphinx.js, which Sphinx serves as translations.js."""
    from babel.messages.pofile import read_po
    from sphinx import package_dir

    if config.language != "tr":
        return
    theirs = Path(package_dir, "locale", "tr", "LC_MESSAGES", "sphinx.js").read_text(encoding="utf-8")
    found = re.search(r"addTranslations\((.*)\);", theirs, re.S)
    assert found is not None, f"Sphinx's Turkish catalog changed its form: {theirs[:80]!r}"
    catalog = json.loads(found.group(1))
    messages = {k: v for k, v in catalog["messages"].items() if v and v != ["", ""]}
    for folder in config.locale_dirs:
        po = Path(app.confdir, folder, "tr", "LC_MESSAGES", "sphinx.po")
        if po.is_file():
            with open(po, "rb") as source:
                for message in read_po(source):
                    if message.id and message.string and any(message.string if isinstance(message.string, tuple)
                                                              else [message.string]):
                        key = message.id[0] if isinstance(message.id, tuple) else message.id
                        messages[key] = list(message.string) if isinstance(message.string, tuple) else message.string
            target = po.with_suffix(".js")
            text = ("Documentation.addTranslations(" + json.dumps(
                {"locale": "tr", "messages": dict(sorted(messages.items())), "plural_expr": PLURAL_RULE},
                ensure_ascii=False, indent=1) + ");\n")
            if not target.is_file() or target.read_text(encoding="utf-8") != text:
                target.write_text(text, encoding="utf-8")
            return


def setup(app):
    register_docutils_language()
    app.add_search_language(search_language())
    app.connect("config-inited", write_browser_catalog)
    return {"parallel_read_safe": True, "parallel_write_safe": True}

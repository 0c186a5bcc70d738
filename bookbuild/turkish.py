"""Render-stage helper: Turkish for docutils, which ships no Turkish module.

Sphinx's own interface strings and search are Turkish with ``language = "tr"``;
docutils' few generated labels (admonitions, contents, bibliographic fields)
come from this module, registered as ``docutils.languages.tr``. Directive and
role names stay English (``docutils.parsers.rst.languages.tr`` maps none).
"""
from __future__ import annotations

import sys
import types

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


def register() -> None:
    sys.modules.setdefault("docutils.languages.tr", sys.modules[__name__])
    rst = types.ModuleType("docutils.parsers.rst.languages.tr")
    rst.directives, rst.roles = {}, {}
    sys.modules.setdefault("docutils.parsers.rst.languages.tr", rst)


def setup(app):
    register()
    return {"parallel_read_safe": True, "parallel_write_safe": True}

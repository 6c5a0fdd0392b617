"""The per-run savings (issue 12): fewer notebook writes, no extra figure draw, a lighter page
export — each with the same outputs as before."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import nbformat  # noqa: E402
import papermill as pm  # noqa: E402
import pytest  # noqa: E402
from nbformat.v4 import new_code_cell, new_notebook, new_output  # noqa: E402

from cucs_analysis.pipeline import papermill_engine, publish  # noqa: E402
from cucs_analysis.present import plots  # noqa: E402


def _carnet(path, cellules: list[str]):
    nb = new_notebook(cells=[new_code_cell(c) for c in cellules])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, path)
    return path


@pytest.fixture
def ecritures(monkeypatch):
    """Counts papermill's writes of the output notebook during execution."""
    import papermill.engines

    compte = []
    vraie = papermill.engines.write_ipynb

    def compter(nb, path):
        compte.append(path)
        return vraie(nb, path)

    monkeypatch.setattr(papermill.engines, "write_ipynb", compter)
    return compte


@pytest.mark.slow
def test_cucs_engine_writes_the_notebook_a_few_times_with_the_same_outputs(tmp_path, ecritures):
    source = _carnet(tmp_path / "essai.ipynb", [f"print({i})\n{i} * 2" for i in range(15)])
    sorties = {}
    for moteur in (None, papermill_engine.NOM):
        ecritures.clear()
        out = tmp_path / f"{moteur}.ipynb"
        nb = pm.execute_notebook(str(source), str(out), kernel_name="python3", progress_bar=False,
                                 engine_name=moteur, shutdown_kernel="immediate")  # fmt: skip
        sorties[moteur] = [c.outputs for c in nbformat.read(out, as_version=4).cells]
        assert sorties[moteur] == [c.outputs for c in nb.cells]
        n = len(ecritures)
        if moteur is None:
            assert n >= 30  # papermill: at each cell's start and end
        else:
            assert n <= 3  # the start, the end (and an autosave if the machine is very slow)
    assert sorties[None] == sorties[papermill_engine.NOM]
    assert sorties[None][3][1]["data"]["text/plain"] == "6"


@pytest.mark.slow
def test_cucs_engine_keeps_the_notebook_of_a_failed_or_dead_kernel(tmp_path):
    """The notebook kept for diagnosis still holds every output received before the failure."""
    for fin, erreur in (("raise ValueError('panne voulue')", "PapermillExecutionError"),
                        ("import os; os._exit(1)", "DeadKernelError")):  # fmt: skip
        source = _carnet(tmp_path / "essai.ipynb", ["print('avant')", fin, "print('jamais')"])
        out = tmp_path / f"{erreur}.ipynb"
        with pytest.raises(Exception) as exc:
            pm.execute_notebook(str(source), str(out), kernel_name="python3", progress_bar=False,
                                engine_name=papermill_engine.NOM, shutdown_kernel="immediate")  # fmt: skip
        assert type(exc.value).__name__ == erreur
        cells = [c for c in nbformat.read(out, as_version=4).cells if c.cell_type == "code"]
        assert cells[0].outputs[0]["text"] == "avant\n"
        assert cells[2].outputs == []


def test_figure_texts_are_cleaned_without_drawing_the_figure(monkeypatch):
    """Categorical tick labels come from the data: cleaned without a full draw (the PNG's own
    draw is the only one)."""
    fig, ax = plt.subplots()
    ax.bar(["Quartier\u202enord", "Centre\r\nville", "$x$ Est"], [1, 2, 3])
    ax.set_title("Titre\u200f avec contrôle", loc="center")

    def interdit(*_a, **_k):
        raise AssertionError("textes_de_donnees ne doit pas dessiner la figure")

    monkeypatch.setattr(fig.canvas, "draw", interdit)
    plots.textes_de_donnees(fig)
    labels = [t.get_text() for t in ax.get_xticklabels()]
    assert labels == ["Quartiernord", "Centre\nville", "$x$ Est"]
    assert ax.get_title(loc="center") == "Titre avec contrôle"
    assert all(not t.get_parse_math() for t in ax.get_xticklabels())
    monkeypatch.undo()
    png = plots.figure_html(fig, alt="Barres par quartier").png
    assert png.startswith(b"\x89PNG")


def _page_avec_image_sans_alt():
    nb = new_notebook()
    cell = new_code_cell("fig")
    png = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
    cell.outputs = [new_output("display_data", data={"image/png": png, "text/plain": "<Figure>"})]
    nb.cells = [cell]
    return nb


def test_page_export_gives_a_french_alt_where_nbconvert_gave_an_english_one():
    """The exporter skips nbconvert's BeautifulSoup pass (its English « No description has
    been provided for this image »): the image gets the page's French alt, and no tabindex
    is left on every output."""
    rendu = publish.render_page_with_warnings(_page_avec_image_sans_alt(), "q3", "20001", "Valbrune")
    assert "No description" not in rendu.html
    assert 'alt="Figure : Géographie prioritaire"' in rendu.html
    assert plots.images_sans_alt(rendu.html) == []
    assert 'tabindex="0"' not in rendu.html.split('<article class="carnet">', 1)[1].split("</article>")[0]
    assert any("Figure sans texte alternatif" in w for w in rendu.warnings)


def test_warm_up_builds_the_exporter_the_workers_inherit():
    publish._exporter.cache_clear()
    publish.warm_up()
    exporteur = publish._exporter()
    assert exporteur.optimistic_validation and exporteur.template is not None
    avant = publish._exporter.cache_info().hits
    publish.render_page(_page_avec_image_sans_alt(), "q1", "20001", "Valbrune")
    assert publish._exporter.cache_info().hits == avant + 1  # reused, not rebuilt


def test_right_to_left_blocks_hold_every_right_to_left_letter():
    """`texte_affiche` skips the bidi lookup of a string with no character of these blocks:
    they must hold every letter of class R or AL of this Python's Unicode database."""
    import sys
    import unicodedata

    from cucs_analysis.present import text

    hors = [
        hex(cp)
        for cp in range(sys.maxunicode + 1)
        if unicodedata.bidirectional(chr(cp)) in ("R", "AL")
        and text.sans_controles(chr(cp))
        and not text._ECRITURES_DROITE_GAUCHE.match(chr(cp))
    ]
    assert hors == []
    assert text.texte_affiche("Quartier \u05d0\u05d1 12") == "Quartier \u2068\u05d0\u05d1\u2069 12"
    assert text.texte_affiche("Élodie Lefèvre, 12 %") == "Élodie Lefèvre, 12 %"

"""The per-run savings (issue 12): fewer notebook writes, no extra figure draw, a lighter page
export — each with the same outputs as before."""

from __future__ import annotations

import datetime
import json
import logging
import queue
import sys
import time
import types

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
        t0 = time.monotonic()
        nb = pm.execute_notebook(str(source), str(out), kernel_name="python3", progress_bar=False,
                                 engine_name=moteur, shutdown_kernel="immediate")  # fmt: skip
        duree = time.monotonic() - t0
        sorties[moteur] = [c.outputs for c in nbformat.read(out, as_version=4).cells]
        assert sorties[moteur] == [c.outputs for c in nb.cells]
        n = len(ecritures)
        if moteur is None:
            assert n >= 30  # papermill: at each cell's start and end
        else:
            # the start, the end, and at most one autosave per `SAUVEGARDE_S` of the run
            # (test_cucs_engine_autosaves_between_cells shows they happen when time passes)
            assert 2 <= n <= 2 + int(duree // papermill_engine.SAUVEGARDE_S)
    assert sorties[None] == sorties[papermill_engine.NOM]
    assert sorties[None][3][1]["data"]["text/plain"] == "6"


class Horloge:
    """A fake clock for papermill's execution manager: time passes only when told."""

    def __init__(self):
        self.t = datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)

    def __call__(self, *_a):
        return self.t

    def avance(self, secondes: float) -> None:
        self.t += datetime.timedelta(seconds=secondes)


def test_cucs_engine_autosaves_between_cells(tmp_path, ecritures, monkeypatch):
    """Cells of 3 s with a 5 s autosave: the notebook is written between the start and the end,
    and the copy on disk holds the outputs of the cells done so far (a run killed from outside
    leaves a notebook at most `SAUVEGARDE_S` old). The manager's calls are papermill's client's."""
    horloge = Horloge()
    monkeypatch.setattr(papermill_engine.Gestionnaire, "now", horloge)
    nb = new_notebook(cells=[new_code_cell(f"print({i})") for i in range(4)])
    nb.metadata["papermill"] = {}  # as papermill's `execute_notebook` leaves it
    out = tmp_path / "essai.ipynb"
    man = papermill_engine.Gestionnaire(nb, output_path=str(out), progress_bar=False,
                                        autosave_cell_every=papermill_engine.SAUVEGARDE_S)  # fmt: skip
    man.notebook_start()
    assert len(ecritures) == 1
    vus = []  # after each cell: the writes so far, and the outputs in the notebook on disk
    for i, cell in enumerate(nb.cells):
        man.cell_start(cell, i)
        horloge.avance(3)
        cell.outputs = [new_output("stream", name="stdout", text=f"{i}\n")]
        man.cell_complete(cell, i)
        sur_disque = nbformat.read(out, as_version=4).cells
        vus.append((len(ecritures), sum(1 for c in sur_disque if c.outputs)))
    man.notebook_complete()
    # t = 0 (start), 6 s (end of cell 1), 12 s (end of cell 3), then the end
    assert [n for n, _ in vus] == [1, 2, 2, 3]
    assert [sorties for _, sorties in vus] == [0, 2, 2, 4]
    assert len(ecritures) == 4
    # no time passing: no write between the start and the end
    ecritures.clear()
    man = papermill_engine.Gestionnaire(nb, output_path=str(out), progress_bar=False,
                                        autosave_cell_every=papermill_engine.SAUVEGARDE_S)  # fmt: skip
    man.notebook_start()
    for i, cell in enumerate(nb.cells):
        man.cell_start(cell, i)
        man.cell_complete(cell, i)
    man.notebook_complete()
    assert len(ecritures) == 2


def test_cucs_engine_autosaves_during_a_long_cell(tmp_path, ecritures, monkeypatch):
    """Outputs of one long cell (papermill's `process_message` autosave) are written every 5 s."""
    horloge = Horloge()
    monkeypatch.setattr(papermill_engine.Gestionnaire, "now", horloge)
    nb = new_notebook(cells=[new_code_cell("boucle()")])
    nb.metadata["papermill"] = {}
    man = papermill_engine.Gestionnaire(nb, output_path=str(tmp_path / "e.ipynb"), progress_bar=False,
                                        autosave_cell_every=papermill_engine.SAUVEGARDE_S)  # fmt: skip
    man.notebook_start()
    man.cell_start(nb.cells[0], 0)
    for _ in range(6):  # an output every 2 s
        horloge.avance(2)
        man.autosave_cell()
    assert len(ecritures) == 1 + 2  # at 6 s and 12 s


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


class _Canal:
    def __init__(self, messages):
        self.messages = list(messages)
        self.attentes = []  # the timeouts of the reads that found nothing

    def get_msg(self, timeout=None):
        if not self.messages:
            self.attentes.append(timeout)
            raise queue.Empty
        return self.messages.pop(0)


class _Client:
    """A kernel client's surface `papermill_engine.pret` uses, with canned messages."""

    def __init__(self, shell, iopub, vivant=True):
        self.shell_channel, self.iopub_channel, self.vivant = _Canal(shell), _Canal(iopub), vivant
        self.infos = []

    def kernel_info(self):
        return "ki-1"

    def is_alive(self):
        return self.vivant

    def _handle_kernel_info_reply(self, msg):
        self.infos.append(msg)


def _msg(msg_type, parent="", **content):
    return {"msg_type": msg_type, "parent_header": {"msg_id": parent} if parent else {}, "content": content}


def test_kernel_client_is_ready_at_the_idle_status_of_kernel_info_not_after_silence():
    """jupyter_client waits for 0.2 s of IOPub silence after the kernel_info reply; `pret`
    stops at that request's `idle` status: what follows stays queued (nbclient ignores
    messages of other parents), and no read waits for nothing."""
    import asyncio

    iopub = [_msg("iopub_welcome"), _msg("status", "ki-1", execution_state="busy"),
             _msg("status", "ki-1", execution_state="idle"), _msg("stream", "autre", text="x")]  # fmt: skip
    kc = _Client([_msg("kernel_info_reply", "ki-1", status="ok")], iopub)
    asyncio.run(papermill_engine.pret(kc, timeout=5))
    assert [m["msg_type"] for m in kc.infos] == ["kernel_info_reply"]
    assert kc.iopub_channel.messages == [iopub[-1]] and kc.iopub_channel.attentes == []
    # the idle status lost (IOPub connected late): at most one 0.2 s wait, as jupyter_client's
    kc = _Client([_msg("kernel_info_reply", "ki-1", status="ok")], iopub[:2])
    asyncio.run(papermill_engine.pret(kc, timeout=5))
    assert kc.iopub_channel.attentes == [0.2]


def test_kernel_client_of_a_dead_kernel_fails_as_jupyter_client_does():
    import asyncio

    from cucs_analysis.pipeline import runner

    kc = _Client([], [], vivant=False)
    with pytest.raises(RuntimeError) as exc:
        asyncio.run(papermill_engine.pret(kc, timeout=5))
    assert str(exc.value) == "Kernel died before replying to kernel_info"
    assert runner.kernel_failed_to_start(exc.value)  # the runner's retry still recognises it


@pytest.mark.slow
def test_kernel_dying_at_startup_fails_the_same_way_with_both_engines(tmp_path, monkeypatch):
    spec = tmp_path / "kernels" / "mort"
    spec.mkdir(parents=True)
    (spec / "kernel.json").write_text(json.dumps(
        {"argv": [sys.executable, "-c", "import sys; sys.exit(3)", "{connection_file}"],
         "display_name": "mort", "language": "python"}), encoding="utf-8")  # fmt: skip
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path))
    source = _carnet(tmp_path / "essai.ipynb", ["1"])
    erreurs = {}
    for moteur in (None, papermill_engine.NOM):
        with pytest.raises(Exception) as exc:
            pm.execute_notebook(str(source), str(tmp_path / f"{moteur}.ipynb"), kernel_name="mort",
                                progress_bar=False, engine_name=moteur, start_timeout=20)  # fmt: skip
        erreurs[moteur] = (type(exc.value), str(exc.value))
    assert erreurs[None] == erreurs[papermill_engine.NOM]
    assert erreurs[None] == (RuntimeError, "Kernel died before replying to kernel_info")


def test_the_engine_s_client_is_the_one_papermill_uses(monkeypatch):
    """nbclient's synchronous path binds `start_new_kernel_client` to its own coroutine: the
    engine's client must rebind it, or `pret` is never called."""
    from nbclient.client import NotebookClient

    assert papermill_engine.ClientCucs.start_new_kernel_client is not NotebookClient.start_new_kernel_client
    appels = []

    async def espion(kc, timeout=None):
        appels.append(timeout)
        raise RuntimeError("Kernel died before replying to kernel_info")

    monkeypatch.setattr(papermill_engine, "pret", espion)
    client = papermill_engine.ClientCucs.__new__(papermill_engine.ClientCucs)
    client.km, client.startup_timeout, client.log = _KM(), 7, logging.getLogger("essai")
    nettoyages = []

    async def nettoyer():
        nettoyages.append(True)

    client._async_cleanup_kernel = nettoyer
    with pytest.raises(RuntimeError, match="before replying"):
        client.start_new_kernel_client()
    assert appels == [7] and nettoyages == [True]  # the kernel is cleaned up, as nbclient does


_CONTEXTE = __import__("zmq").Context()  # the fake client's own (never the process's global one)


class _KM:
    kernel_id = "essai"

    def client(self):
        return types.SimpleNamespace(start_channels=lambda: None, context=_CONTEXTE)


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

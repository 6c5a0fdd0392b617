import pandas as pd
import pytest

from cucs_analysis.pipeline import publish, results
from cucs_analysis.present import display, text
from cucs_analysis.reports import synthese


def _write(folder, code, q, constats, chiffres, **keys):
    results.write_results(folder, q, code, {}, constats, [], chiffres, **keys)


def _fixture(tmp_path):
    _write(
        tmp_path,
        "20001",
        "q3",
        ["Trois quartiers éligibles.", "Deuxième.", "Troisième.", "Quatrième."],
        [{"id": "eligibles_qpv2014", "libelle": "Quartiers éligibles", "valeur": 3, "unite": "quartiers"}],
        eligibilite=[],
        seuil_qpv2014=11300.0,
        typologie=[],
    )
    _write(
        tmp_path,
        "20002",
        "q3",
        ["Un quartier éligible."],
        [{"id": "eligibles_qpv2014", "libelle": "Quartiers éligibles", "valeur": 1, "unite": "quartiers"}],
        eligibilite=[],
        seuil_qpv2014=11300.0,
        typologie=[],
    )
    _write(
        tmp_path,
        "20001",
        "q1",
        ["Droit commun stable."],
        [{"id": "part_droit_commun", "libelle": "Part du droit commun", "valeur": 64.25, "unite": "%"}],
        substitution=[],
        part_droit_commun=[],
    )
    _write(
        tmp_path,
        "20002",
        "q1",
        ["Droit commun en baisse."],
        [{"id": "part_droit_commun", "libelle": "Part du droit commun", "valeur": 40.0, "unite": "%"}],
        substitution=[],
        part_droit_commun=[],
    )


def test_commune_synthesis_reads_results_and_lists_missing_questions(tmp_path):
    _fixture(tmp_path)
    s = synthese.build_commune(
        {r["question"]: r for r in results.read_results(tmp_path, "20001")}, "20001", "Valbrune"
    )
    by_id = {x.question.id: x for x in s.sections}
    assert by_id["q3"].disponible and by_id["q3"].constats == [
        "Trois quartiers éligibles.",
        "Deuxième.",
        "Troisième.",
    ]
    assert by_id["q3"].chiffres.to_dict("records") == [
        {"libelle": "Quartiers éligibles", "valeur": "3\u00a0quartiers"}
    ]
    assert not by_id["q2"].disponible
    n = len(synthese.QUESTIONS_COMMUNE)  # without the list of notebooks: every question
    assert s.constats[0].startswith(f"2 questions évaluatives sur {n} ont des résultats pour Valbrune")
    # without a verdict key (an older run) the verdict line is the first finding, linked to the page
    assert ("Géographie prioritaire : Trois quartiers éligibles.", "q3.html", "voir la page") in s.verdicts()
    assert "Moyens aux associations" in s.reserves[0]


def test_regional_synthesis_side_by_side(tmp_path):
    _fixture(tmp_path)
    communes = pd.DataFrame(
        {"code_commune": ["20001", "20002", "20003"], "nom": ["Valbrune", "Castelnoir", "Pontmorel"]}
    )
    s = synthese.build_regionale(results.read_results(tmp_path), communes)
    t = s.tableau.set_index("code_commune")
    # 64.25 % is "64,3 %" (half up, one decimal for a percentage), as on the site index.
    assert t.loc["20001", "q1_part_droit_commun"] == "64,3\u00a0%"
    assert t.loc["20002", "q1_part_droit_commun"] == "40,0\u00a0%"
    assert t.loc["20002", "q3_eligibles_qpv2014"] == "1\u00a0quartier"
    assert t.loc["20003", "q3_eligibles_qpv2014"] == "non exécuté"
    assert s.constats[0].startswith("2 communes sur 3 ont des résultats")
    assert s.constats[1] == (
        "Selon la règle de revenu de 2014 : 4 quartiers éligibles dans les communes signataires "
        "(2 sur 3 où la règle a pu être appliquée)."
    )
    assert s.constats[2] == (
        "Dans les 2 communes signataires dont les résultats sont disponibles, sur les 3 de la région, la part "
        "du droit commun dans le financement des actions va de 40,0\u00a0% (Castelnoir) à 64,3\u00a0% (Valbrune)."
    )


def test_regional_eligible_count_keeps_signatories_and_communes_outside_apart():
    sig = {"20001": True, "20002": True, "20009": False, "20010": False}
    phrase = synthese.phrase_eligibles_region({"20001": 3, "20002": 1, "20009": 1, "20010": 0}, sig, 4, 2)
    assert phrase == (
        "Selon la règle de revenu de 2014 : 4 quartiers éligibles dans les communes signataires "
        "(2 sur 2 où la règle a pu être appliquée) ; 1 quartier qui pourrait entrer dans les communes hors CUCS "
        "(2 sur 2 où la règle a pu être appliquée)."
    )


# --- the synthesis and the site show a key figure the same way -----------------------------------

CHIFFRES = [
    (0.45, None),
    (0.456, ""),
    (0.45, "%"),
    (64.25, "%"),
    (64.0, "%"),
    (2.5, "€"),
    (1.37, "€"),
    (3428010.4, "€"),
    (1, "quartiers"),
    (3, "quartiers"),
    (12345.6, "hab."),
    (-1.54, "points"),
    (45.67, "‰"),
    (None, "%"),
    (float("nan"), "%"),
    ("s", "%"),
    (True, ""),
]


@pytest.mark.parametrize(("valeur", "unite"), CHIFFRES)
def test_index_and_synthesis_show_a_key_figure_alike(valeur, unite):
    chiffre = {"id": "x", "libelle": "X", "valeur": valeur, "unite": unite}
    res = {
        "question": "q1",
        "code_commune": "20001",
        "constats": [],
        "reserves": [],
        "chiffres_cles": [chiffre],
    }
    # The site index cell, the commune page (template filter) and the syntheses.
    index = publish._cell({"statut": "ok", "erreur": ""}, res, True)["chiffre"]
    page = publish._jinja_env().filters["chiffre"](valeur, unite)
    commune = synthese.build_commune({"q1": res}, "20001", "Valbrune")
    dans_synthese = {x.question.id: x for x in commune.sections}["q1"].chiffres["valeur"].iloc[0]
    regionale = (
        synthese.build_regionale([res], pd.DataFrame({"code_commune": ["20001"], "nom": ["Valbrune"]}))
        .tableau.set_index("code_commune")
        .loc["20001", "q1_x"]
    )
    assert index == page == dans_synthese == regionale == text.chiffre_cle(valeur, unite)


def test_key_figures_known_strings():
    # The disagreements this replaced: 0,45 on the index but 0,5 in the synthesis; 2,5 € read
    # "2 €" in the q1 sentences and "3 €" in the tables.
    assert publish.format_chiffre(0.45, "%") == "0,5\u00a0%"
    assert (
        synthese.build_regionale(
            [
                {
                    "question": "q1",
                    "code_commune": "1",
                    "chiffres_cles": [{"id": "x", "libelle": "X", "valeur": 0.45, "unite": "%"}],
                }
            ],
            pd.DataFrame({"code_commune": ["1"], "nom": ["A"]}),
        ).tableau.loc[0, "q1_x"]
        == "0,5\u00a0%"
    )
    assert publish.format_chiffre(2.5, "€") == text.euros(2.5) == "3\u00a0€"


# --- the views the synthesis notebooks show ------------------------------------------------------


def test_commune_synthesis_question_by_question(tmp_path):
    _fixture(tmp_path)
    s = synthese.build_commune(
        {r["question"]: r for r in results.read_results(tmp_path, "20001")}, "20001", "Valbrune"
    )
    parts = synthese.question_par_question(s)
    assert [p[0].split(" — ")[0] for p in parts] == [x.question.titre for x in s.sections]
    by_title = {p[0].split(" — ")[0]: p for p in parts}
    entete, constats, vue = by_title["Géographie prioritaire"]
    assert entete.endswith("»") and "« " in entete  # the question verbatim
    assert constats == ["Trois quartiers éligibles.", "Deuxième.", "Troisième."]
    assert vue.to_dict("records") == [{"Chiffre clé": "Quartiers éligibles", "Valeur": "3\u00a0quartiers"}]
    assert by_title["Moyens aux associations"][2] is None  # no results for q2
    html = display.sections(
        parts, vide="cette question n'a pas de résultats pour la commune", titre_liste="Constats"
    )
    missing = "Données non disponibles : cette question n'a pas de résultats pour la commune."
    assert html.texte.count(missing) == len(parts) - 2
    assert html.fragment.count("<h3>") == len(parts)
    assert "<strong>Constats</strong>" in html.fragment and "3\u00a0quartiers" in html.fragment
    # r.tables: the key figures of every question with results, and no regional view
    t = s.tables
    assert set(t) == {"chiffres_cles"}
    assert t["chiffres_cles"]["Question"].tolist() == [
        "Droit commun et dispositifs",
        "Géographie prioritaire",
    ]


def test_sections_escape_and_say_when_a_section_has_no_data():
    vue = display.vue(pd.DataFrame({"a": ["<b>x</b>"]}), {"a": ("A", "texte")}, vide="rien")
    html = display.sections(
        [("<i>T</i>", ["<script>p</script>"], vue), ("U", [], None)], vide="pas de données"
    )
    assert "<script>" not in html.fragment and "<i>" not in html.fragment
    assert "&lt;b&gt;x&lt;/b&gt;" in html.fragment
    assert html.fragment.endswith("Données non disponibles : pas de données.</p>")


def test_regional_synthesis_view(tmp_path):
    _fixture(tmp_path)
    communes = pd.DataFrame(
        {"code_commune": ["20001", "20002", "20003"], "nom": ["Valbrune", "Castelnoir", "Pontmorel"]}
    )
    s = synthese.build_regionale(results.read_results(tmp_path), communes)
    t = s.tables
    assert set(t) == {"communes"}
    vue = t["communes"]
    assert list(vue.columns) == list(s.colonnes.values())
    assert vue.columns[:2].tolist() == ["Commune", "Code"]
    assert "Droit commun et dispositifs — Part du droit commun" in vue.columns
    # the key figures as the site index writes them; « — » for a question without results
    assert vue.set_index("Code").loc["20003", "Géographie prioritaire — Quartiers éligibles"] == "non exécuté"
    html = display.tableau(vue, legende="Premiers chiffres clés").fragment
    assert "64,3\u00a0%" in html and ">non exécuté<" in html


# --- issue 8 point 7: verdicts, questions with a notebook, hors CUCS ------------------------------


def test_synthesis_counts_only_questions_with_a_notebook_and_links_verdicts(tmp_path):
    _fixture(tmp_path)
    res = {r["question"]: r for r in results.read_results(tmp_path, "20001")}
    res["q1"]["verdict"] = {
        "texte": "Droit commun : retrait durable en éducation depuis 2010 ; 4 actions à reprendre.",
        "motif": None,
        "section": "4. Complémentarité ou substitution ?",
    }
    s = synthese.build_commune(res, "20001", "Valbrune", questions_ids=["q1", "q2", "q3", "q4", "synthese"])
    assert [x.question.id for x in s.sections] == ["q1", "q2", "q3", "q4"]
    assert s.constats[0].startswith("2 questions évaluatives sur 4 ont des résultats")
    lignes = s.verdicts()
    assert lignes[0] == (
        "Droit commun et dispositifs : retrait durable en éducation depuis 2010 ; 4 actions à reprendre.",
        "q1.html#4.-Compl%C3%A9mentarit%C3%A9-ou-substitution-?",
        "voir « 4. Complémentarité ou substitution ? »",
    )
    assert lignes[1] == ("Moyens aux associations : non exécuté.", None, "voir la page")
    assert not any("Insertion" in texte for texte, _, _ in lignes)
    assert "non exécuté ou données absentes" not in " ".join(s.reserves)


def test_regional_table_says_hors_cucs_for_a_non_signatory(tmp_path):
    _fixture(tmp_path)
    _write(
        tmp_path,
        "20012",
        "q1",
        ["Sans objet."],
        [{"id": "part_droit_commun", "libelle": "Part du droit commun", "valeur": None, "unite": "%"}],
        substitution=[],
        part_droit_commun=[],
        signataire_cucs=False,
    )
    communes = pd.DataFrame(
        {
            "code_commune": ["20001", "20002", "20012"],
            "nom": ["Valbrune", "Castelnoir", "Sept-Ormeaux"],
            "signataire_cucs": [True, True, False],
        }
    )
    s = synthese.build_regionale(results.read_results(tmp_path), communes)
    t = s.tableau.set_index("code_commune")
    assert t.loc["20012", "q1_part_droit_commun"] == "hors CUCS"
    assert t.loc["20012", "q3_eligibles_qpv2014"] == "hors CUCS"  # no results, not a signatory
    d = s.donnees.set_index("code_commune")
    assert d.loc["20001", "q1_part_droit_commun"] == 64.3  # 64.25 half up, as the page writes it
    assert d.loc["20012", "q1_part_droit_commun"] == "hors CUCS"
    assert (
        "Dans les 2 communes signataires dont les résultats sont disponibles, sur les 2 de la région"
        in s.constats[2]
    )
    liens = synthese.liens_communes(communes)
    assert [h for _, h, _ in liens] == [f"../../communes/{c}.html" for c in communes["code_commune"]]
    assert liens[2][0] == "Sept-Ormeaux (20012) — hors CUCS"


def test_a_verdict_does_not_repeat_the_title_of_its_question():
    # it follows the question's title and a colon: French goes on in lower case
    assert synthese.sans_etiquette("Droit commun et dispositifs", "Droit commun : retrait durable") == (
        "retrait durable"
    )
    assert (
        synthese.sans_etiquette("Implication des partenaires", "Partenaires : hors CUCS — x")
        == "hors CUCS — x"
    )
    # a label that says something the title does not is kept
    assert (
        synthese.sans_etiquette("Géographie prioritaire", "Hors CUCS : Esterbourg…")
        == "Hors CUCS : Esterbourg…"
    )
    assert synthese.sans_etiquette("Géographie prioritaire", "Échelle du quartier : 27,2 %") == (
        "Échelle du quartier : 27,2 %"
    )


# --- issue 10: the regional synthesis says what q6 and q7 find across communes ----------------------


def test_regional_steering_models_group_and_name_the_communes():
    res = {
        "20001": {
            "modele_pilotage": {
                "axe_descendant_participatif": "participatif",
                "axe_fige_adaptable": "adaptable",
            }
        },
        "20005": {
            "modele_pilotage": {
                "axe_descendant_participatif": "participatif",
                "axe_fige_adaptable": "adaptable",
            }
        },
        "20002": {
            "modele_pilotage": {"axe_descendant_participatif": "descendant", "axe_fige_adaptable": "fige"}
        },
        "20008": {"modele_pilotage": {"axe_descendant_participatif": None, "axe_fige_adaptable": "fige"}},
        "20003": {"verdict": {}},  # no model in its results: not counted
    }
    noms = {"20001": "Valbrune", "20005": "Saint-Hilvard", "20002": "Castelnoir", "20008": "Villefrêne"}
    assert synthese.phrase_modeles_region(res, noms) == (
        "Modèle de pilotage des 4 communes signataires (page « Opérateurs ») : participatif et adaptable pour "
        "Saint-Hilvard et Valbrune ; descendant et figé pour Castelnoir ; figé (descendant ou participatif : "
        "non établi, réunions non disponibles) pour Villefrêne."
    )
    assert synthese.phrase_modeles_region({}, noms) is None


def test_regional_structures_keep_cents_and_say_it_is_no_ranking():
    lignes = [
        {
            "structure": "GIP",
            "communes": 3,
            "effet_levier": 1.8,
            "effet_levier_min": 1.57,
            "effet_levier_max": 2.07,
        },
        {"structure": "service municipal", "communes": 1, "effet_levier": 0.854},
        {"structure": "autre", "communes": 2, "effet_levier": None},  # cannot be computed: left out
    ]
    phrase = synthese.phrase_structures_region({"20001": {"structures": lignes}, "20002": {}})
    assert phrase.replace("\u00a0", " ") == (
        "Cofinancement de droit commun par euro de crédits spécifiques, par structure de pilotage (page "
        "« Outils de pilotage ») : GIP 1,80 € (3 communes, de 1,57 € à 2,07 €) ; service municipal 0,85 € "
        "(1 commune) — une tendance sur 4 communes, pas un classement des structures."
    )
    assert synthese.phrase_structures_region({"20001": {"structures": []}}) is None

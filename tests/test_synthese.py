import pandas as pd

from cucs_analysis.pipeline import results
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
    assert s.constats[0] == "2 questions évaluatives traitées pour Valbrune sur 8."
    assert "Géographie prioritaire : Trois quartiers éligibles." in s.constats
    assert "Moyens aux associations" in s.reserves[0]


def test_regional_synthesis_side_by_side(tmp_path):
    _fixture(tmp_path)
    communes = pd.DataFrame(
        {"code_commune": ["20001", "20002", "20003"], "nom": ["Valbrune", "Castelnoir", "Pontmorel"]}
    )
    s = synthese.build_regionale(results.read_results(tmp_path), communes)
    t = s.tableau.set_index("code_commune")
    assert (
        t.loc["20001", "q1_part_droit_commun"] == "64,2\u00a0%"
        or t.loc["20001", "q1_part_droit_commun"] == "64,3\u00a0%"
    )
    assert t.loc["20002", "q3_eligibles_qpv2014"] == "1\u00a0quartier"
    assert t.loc["20003", "q3_eligibles_qpv2014"] == "—"
    assert s.constats[0] == "2 communes ont des résultats sur 3 communes de la région."
    assert "4 quartiers sont éligibles" in s.constats[1]
    assert (
        s.constats[2]
        == "La part du droit commun dans le financement des actions va de 40,0\u00a0% (Castelnoir) à 64,3\u00a0% (Valbrune)."
    )

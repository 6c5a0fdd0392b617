"""Tests of cucs_analysis.analysis.partners on small hand-made frames with known answers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cucs_analysis.analysis.partners import (
    cofunding,
    cofunding_periods,
    granted_by_institution_year,
    institutions_presence,
    interinstitutional_share,
    mainstream_mobilised,
    partner_statement_examples,
    partner_statements,
    requests_granted,
    requests_granted_periods,
    steering_bodies,
)


def make_instances() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "id_instance": ["I1", "I2", "I3", "I4"],
            "date": pd.to_datetime(["2008-03-01", "2008-06-01", "2008-09-01", "2009-01-15"]),
            "code_commune": ["20001"] * 4,
            "type": [
                "comité de pilotage",
                "comité de pilotage",
                "réunion de consignes",
                "comité de pilotage",
            ],
            "institutions": ["État;commune;département", "État; commune", "commune", "État;commune;État"],
            "participants": [20, 10, 5, 12],
            "habitants": [2, 0, 0, 3],
        }
    )


def test_steering_bodies():
    out = steering_bodies(make_instances()).set_index(["type", "annee"])
    copil08 = out.loc[("comité de pilotage", 2008)]
    assert copil08["nombre"] == 2
    assert copil08["participants"] == 30
    assert copil08["part_habitants"] == pytest.approx(2 / 30)
    assert copil08["institutions_moyennes"] == pytest.approx(2.5)  # 3 and 2
    # duplicated "État" in I4 counts once
    assert out.loc[("comité de pilotage", 2009), "institutions_moyennes"] == 2
    assert out.loc[("réunion de consignes", 2008), "nombre"] == 1
    by_type = steering_bodies(make_instances(), by=["type"]).set_index("type")
    assert by_type.loc["comité de pilotage", "nombre"] == 3
    assert steering_bodies(make_instances().iloc[0:0]).empty


def test_institutions_presence():
    out = institutions_presence(make_instances()).set_index(["institution", "annee"])
    assert out.loc[("commune", 2008), "reunions"] == 3
    assert out.loc[("commune", 2008), "part_presence"] == 1.0
    assert out.loc[("État", 2008), "reunions"] == 2
    assert out.loc[("État", 2008), "part_presence"] == pytest.approx(2 / 3)
    assert out.loc[("département", 2008), "reunions"] == 1
    assert ("département", 2009) not in out.index
    overall = institutions_presence(make_instances(), by=[]).set_index("institution")
    assert overall.loc["État", "reunions"] == 3
    assert overall.loc["État", "part_presence"] == pytest.approx(0.75)


def make_financements() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "id_action": ["A", "A", "A", "B", "B", "C", "A", "D"],
            "annee": [2008, 2008, 2008, 2008, 2008, 2008, 2009, 2009],
            "financeur": ["ACSé", "Ville", "Ville bis", "ACSé", "ACSé 2", "CAF", "ACSé", "Région"],
            "institution": ["État", "commune", "commune", "État", "État", "CAF", "État", "région"],
            "type_credit": [
                "specifique",
                "droit_commun",
                "droit_commun",
                "specifique",
                "specifique",
                "droit_commun",
                "specifique",
                "droit_commun",
            ],
            "montant_accorde": [100.0, 50.0, 25.0, 80.0, 20.0, 0.0, 100.0, 40.0],
        }
    )


def test_cofunding():
    res = cofunding(make_financements())
    # funded action-years: A-2008 (État + commune: co-funded), B-2008 (two État funders: not),
    # A-2009, D-2009 (single institution); C-2008 has 0 € granted and is ignored
    assert res["part_actions_cofinancees"] == pytest.approx(1 / 4)
    par = res["par_annee"].set_index("annee")
    assert par.loc[2008, "actions_financees"] == 2
    assert par.loc[2008, "actions_cofinancees"] == 1
    assert par.loc[2009, "part"] == 0
    inst = res["institutions"].set_index("institution")
    assert inst.loc["État", "actions_financees"] == 2
    assert inst.loc["État", "actions_cofinancees"] == 1
    assert inst.loc["commune", "actions_cofinancees"] == 1
    assert inst.loc["région", "actions_cofinancees"] == 0
    assert "CAF" not in inst.index
    empty = cofunding(make_financements().iloc[0:0])
    assert np.isnan(empty["part_actions_cofinancees"])


def test_mainstream_mobilised():
    fin = make_financements()
    actions = pd.DataFrame(
        {
            "id_action": ["A", "B", "C", "A", "D"],
            "annee": [2008, 2008, 2008, 2009, 2009],
            "thematique": ["education", "emploi", "sante", "education", "emploi"],
        }
    )
    dc = pd.DataFrame(
        {
            "institution": ["commune", "commune", "État", "État"],
            "domaine": ["education", "education", "emploi", "emploi"],
            "niveau": ["commune", "commune", "commune", "commune"],
            "code_territoire": ["20001", "20001", "20001", "20002"],
            "annee": [2008, 2009, 2008, 2008],
            "mesure": ["credits", "credits", "postes", "credits"],
            "valeur": [1000.0, 500.0, 3.0, 999.0],
        }
    )
    out = mainstream_mobilised(fin, dc, actions, code_territoire="20001").set_index(
        ["institution", "domaine"]
    )
    assert out.loc[("commune", "education"), "montant_actions"] == 75
    assert out.loc[("commune", "education"), "montant_territoire"] == 1500
    assert out.loc[("commune", "education"), "montant"] == 1575
    assert out.loc[("région", "emploi"), "montant_actions"] == 40
    assert ("État", "emploi") not in out.index  # posts are not credits; 999 is another commune
    assert out.index[0] == ("commune", "education")  # largest first
    y08 = mainstream_mobilised(fin, dc, actions, code_territoire="20001", annees=[2008])
    assert y08.set_index(["institution", "domaine"]).loc[("commune", "education"), "montant"] == 1075
    no_dc = mainstream_mobilised(fin, None, actions)
    assert no_dc["montant_territoire"].sum() == 0


# --- inter-institutional meetings ---------------------------------------------------------------


def test_interinstitutional_share_by_year():
    inst = pd.DataFrame(
        {
            "id_instance": ["I1", "I2", "I3", "I4", "I5"],
            "date": ["2008-01-10", "2008-05-02", "2009-03-01", "2009-04-01", "2009-06-01"],
            "code_commune": "99001",
            "type": "comité technique",
            "institutions": ["État;commune", "commune;commune", "commune", "État; région ;commune", None],
            "participants": 10,
            "habitants": 0,
        }
    )
    out = interinstitutional_share(inst).set_index("annee")
    assert list(out.columns) == ["reunions", "interinstitutionnelles", "part_interinstitutionnelles"]
    # A repeated institution counts once; spaces around names are ignored.
    assert out.loc[2008, "reunions"] == 2 and out.loc[2008, "interinstitutionnelles"] == 1
    assert out.loc[2008, "part_interinstitutionnelles"] == 0.5
    # A meeting with no institution listed is a meeting, not an inter-institutional one.
    assert out.loc[2009, "reunions"] == 3 and out.loc[2009, "interinstitutionnelles"] == 1
    assert out.loc[2009, "part_interinstitutionnelles"] == pytest.approx(1 / 3)


def test_interinstitutional_share_by_type_and_empty():
    out = interinstitutional_share(make_instances(), ("type",)).set_index("type")
    assert out.loc["comité de pilotage", "reunions"] == 3
    assert out.loc["comité de pilotage", "interinstitutionnelles"] == 3
    assert out.loc["réunion de consignes", "part_interinstitutionnelles"] == 0.0
    empty = interinstitutional_share(make_instances().iloc[0:0])
    assert empty.empty and "part_interinstitutionnelles" in empty.columns


# --- before / during the contract, requests granted, report statements ---------------------------


def _cofunded_frame(n_fin: dict[int, int], n_co: dict[int, int]) -> pd.DataFrame:
    """Funding rows: in year y, n_fin[y] funded actions of which n_co[y] by two institutions."""
    rows = []
    for y, n in n_fin.items():
        for k in range(n):
            rows.append({"id_action": f"A{k}", "annee": y, "institution": "État", "montant_accorde": 100.0})
            if k < n_co[y]:
                rows.append(
                    {"id_action": f"A{k}", "annee": y, "institution": "commune", "montant_accorde": 50.0}
                )
    return pd.DataFrame(rows)


def test_cofunding_periods_pools_each_period_and_flags_a_small_base():
    # The example: 8 co-funded of 14 before, the same 8 of 12 during: 57,1 % → 66,7 %.
    fin = _cofunded_frame({2005: 7, 2006: 7, 2007: 6, 2008: 6}, {2005: 4, 2006: 4, 2007: 4, 2008: 4})
    out = cofunding_periods(fin, annee_debut_cucs=2007, debut=2005, fin=2014).iloc[0]
    assert (out["numerateur_avant"], out["denominateur_avant"]) == (8, 14)
    assert (out["numerateur_pendant"], out["denominateur_pendant"]) == (8, 12)
    assert out["valeur_avant"] == pytest.approx(100 * 8 / 14)
    assert bool(out["petite_base"]) and bool(out["avant_testable"])
    assert out["sens"] == "stable"  # the intervals of 14 and 12 action-years overlap
    big = _cofunded_frame({2005: 100, 2007: 100}, {2005: 20, 2007: 80})
    out = cofunding_periods(big, annee_debut_cucs=2007, debut=2005, fin=2014).iloc[0]
    assert not out["petite_base"] and out["sens"] == "hausse"
    late = _cofunded_frame({2007: 40, 2008: 40}, {2007: 10, 2008: 30})
    out = cofunding_periods(late, annee_debut_cucs=2007, debut=2005, fin=2014).iloc[0]
    assert not out["avant_testable"] and pd.isna(out["sens"]) and not out["petite_base"]
    assert cofunding_periods(big.iloc[0:0], annee_debut_cucs=2007, debut=2005, fin=2014).empty


def test_granted_by_institution_year_counts_years_without_funding_as_zero():
    fin = pd.DataFrame(
        {
            "institution": ["État", "État", "région"],
            "annee": [2005, 2006, 2006],
            "montant_accorde": [10.0, 20.0, 5.0],
        }
    )
    out = granted_by_institution_year(fin).set_index(["institution", "annee"])["montant_accorde"]
    assert out[("région", 2005)] == 0 and out[("région", 2006)] == 5 and len(out) == 4


def _requests() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "id_action": ["A", "B", "C", "D", "E"],
            "annee": [2006, 2006, 2008, 2008, 2008],
            "institution": ["État", "État", "État", "région", "région"],
            "montant_demande": [100.0, 100.0, 200.0, 50.0, np.nan],
            "montant_accorde": [100.0, 60.0, 0.0, 40.0, 30.0],
        }
    )


def test_requests_granted_on_one_base():
    out = requests_granted(_requests()).set_index("institution")
    assert out.loc["État", "demandes"] == 3
    assert out.loc["État", "demandes_reduites"] == 1 and out.loc["État", "demandes_refusees"] == 1
    assert out.loc["État", "taux_accord"] == pytest.approx(160 / 400)
    # the row without a requested amount is left out of both sums
    assert out.loc["région", "demandes"] == 1 and out.loc["région", "montant_accorde"] == 40
    assert requests_granted(_requests().iloc[0:0]).empty


def test_requests_granted_periods_count_requests_for_the_base():
    out = requests_granted_periods(_requests(), annee_debut_cucs=2007, debut=2005, fin=2014).set_index(
        "institution"
    )
    assert out.loc["État", "demandes_avant"] == 2 and out.loc["État", "demandes_pendant"] == 1
    assert out.loc["État", "valeur_avant"] == pytest.approx(80.0)
    assert out.loc["État", "valeur_pendant"] == 0
    assert bool(out.loc["État", "petite_base"])  # 2 and 1 requests, though hundreds of euros
    assert not out.loc["région", "avant_testable"] and not out.loc["région", "petite_base"]


def _bilans() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "id_bilan": ["B1", "B2", "B3", "B4", "B5"],
            "id_action": ["A", "A", "B", "C", "C"],
            "annee": [2006, 2008, 2008, 2009, 2009],
            "categorie": ["réussite", "réussite", "blocage", "réussite", "difficulté"],
            "theme": ["partenariat", "partenariat", "financement", "partenariat", "locaux"],
            "texte": ["Bon travail.", "Bon travail.", "Versement tardif.", "Bon travail.", "Locaux petits."],
        }
    )


def test_partner_statements_and_examples():
    out = partner_statements(_bilans(), annee_debut_cucs=2007).set_index(["theme", "categorie"])
    assert list(out.index) == [("partenariat", "réussite"), ("financement", "blocage")]  # no "locaux"
    row = out.loc[("partenariat", "réussite")]
    assert (row["enonces_avant"], row["enonces_pendant"], row["enonces"], row["actions"]) == (1, 2, 3, 2)
    ex = partner_statement_examples(_bilans())
    assert ex.iloc[0]["texte"] == "Bon travail." and ex.iloc[0]["enonces"] == 3
    assert (ex.iloc[0]["annee_min"], ex.iloc[0]["annee_max"]) == (2006, 2009)
    assert partner_statements(_bilans().iloc[0:0], annee_debut_cucs=2007).empty
    assert partner_statement_examples(None).empty

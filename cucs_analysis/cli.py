"""The `cucs` command: French interface to the library (demo, validate, run, site, params…).

Imports of heavy modules happen inside each sub-command so that `cucs --help` stays instant.
Every failure the user can cause ends with a French message and a non-zero exit, never a
traceback.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

_TRANSLATIONS = (
    ("the following arguments are required: ", "arguments obligatoires manquants : "),
    ("unrecognized arguments: ", "arguments non reconnus : "),
    ("invalid choice: ", "choix invalide : "),
    ("choose from ", "choisir parmi "),
    ("expected one argument", "une valeur est attendue"),
    ("invalid int value: ", "nombre entier invalide : "),
    ("argument ", "argument "),
)


class FrenchParser(argparse.ArgumentParser):
    """argparse with French usage lines, headings and error messages."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("add_help", False)
        super().__init__(*args, **kwargs)
        self._positionals.title = "arguments"
        self._optionals.title = "options"
        self.add_argument("-h", "--help", action="help", help="affiche cette aide et quitte")

    def format_usage(self) -> str:
        return super().format_usage().replace("usage:", "utilisation :", 1)

    def format_help(self) -> str:
        return super().format_help().replace("usage:", "utilisation :", 1)

    def error(self, message: str):
        for english, french in _TRANSLATIONS:
            message = message.replace(english, french)
        # « argument --jobs: … » → « argument --jobs : … » (French typography)
        message = re.sub(r"^(argument [^:\s]+(?:/[^:\s]+)*):", r"\1 :", message)
        self.print_usage(sys.stderr)
        self.exit(2, f"{self.prog} : erreur : {message}\n")


def _os_error(exc: OSError) -> str:
    """A French sentence for a file-system error (Python's own text is English)."""
    import errno

    quoi = {
        errno.ENOENT: "fichier ou dossier introuvable",
        errno.EACCES: "accès refusé",
        errno.EPERM: "opération non permise",
        errno.EROFS: "système de fichiers en lecture seule",
        errno.ENOSPC: "plus de place sur le disque",
        errno.EEXIST: "le fichier existe déjà",
    }.get(exc.errno, "erreur d'accès au disque")
    return f"{quoi} : {exc.filename}" if exc.filename else quoi


def _positive_int(value: str) -> int:
    try:
        n = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"nombre entier attendu, pas « {value} »") from None
    if n < 1:
        raise argparse.ArgumentTypeError(f"au moins 1 processus, pas {n}")
    return n


def _minutes(value: str) -> float:
    try:
        n = float(value.replace(",", "."))
    except ValueError:
        raise argparse.ArgumentTypeError(f"nombre de minutes attendu, pas « {value} »") from None
    if not (0 < n <= 1440):
        raise argparse.ArgumentTypeError(f"une durée en minutes entre 0 (exclu) et 1440, pas {value}")
    return n


def _fail(message: str, code: int = 1) -> int:
    print(message, file=sys.stderr)
    return code


def cmd_demo(args: argparse.Namespace) -> int:
    from cucs_analysis.data import demo

    out = Path(args.out)
    truth = demo.generate(out, scale=args.scale)
    print(f"Jeu de démonstration écrit dans {out} ({len(truth)} vérités de contrôle dans truth.json).")
    return 0


def cmd_validate(args: argparse.Namespace) -> int:
    from cucs_analysis.data import validate
    from cucs_analysis.data.errors import erreurs

    data_dir = Path(args.dossier)
    if data_dir.is_file():
        # One file: a known foreign layout names its import command; a table is checked alone.
        problems = validate.validate_file(data_dir)
        print(validate.format_report(problems, fichier=data_dir.name))
        return 1 if erreurs(problems) else 0
    if not data_dir.is_dir():
        return _fail(f"Dossier ou fichier introuvable : {data_dir}")
    from cucs_analysis.data import readers, schema

    problems = validate.validate_dir(data_dir)
    found = readers.find_files(data_dir).tables
    absentes = [t for t in schema.TABLES if not found.get(t)]
    print(validate.format_report(problems, absentes=absentes))
    # Warnings (unknown values…) do not make the data set invalid.
    return 1 if erreurs(problems) else 0


def cmd_run(args: argparse.Namespace) -> int:
    from cucs_analysis.pipeline import kernels

    try:
        if not args.scheduler and args.executor == "processus" and args.noyau != "standard":
            # the warm kernels' template imports its stack while this process imports its own
            kernels.anticiper(explicite=args.noyau == "chaud")
        from cucs_analysis.pipeline import runner
        from cucs_analysis.pipeline.params import find_project_root

        root = find_project_root()
        summary = runner.run(
            root,
            communes=args.communes,
            questions=args.questions,
            jobs=args.jobs,
            resume=args.resume,
            out_dir=Path(args.out) if args.out else None,
            scheduler=args.scheduler,
            executeur=args.executor,
            delai_max=args.delai_max,
            donnees=Path(args.donnees) if args.donnees else None,
            noyau=args.noyau,
        )
    finally:
        kernels.abandonner_anticipe()
    return summary.exit_code


def cmd_site(args: argparse.Namespace) -> int:
    from cucs_analysis.pipeline import publish
    from cucs_analysis.pipeline.params import ParamError, find_project_root

    try:
        root = find_project_root()
    except ParamError:
        if not args.out:
            raise
        root = None  # `--out` alone is enough: the site is built from the manifest there
    out = Path(args.out) if args.out else root / "out"
    if not (out / "manifest.json").is_file():
        return _fail(f"Aucun résultat à publier dans {out} : lancez d'abord « cucs run ».")
    site = publish.build_site(out, root)
    print(f"Site reconstruit : {site / 'index.html'}")
    return 0


def cmd_projet_init(args: argparse.Namespace) -> int:
    from cucs_analysis.pipeline import params

    dossier, changes = params.init_projet(args.dossier, args.donnees, force=args.force)
    print(f"Projet créé dans {dossier} : params/defaults.yaml et les carnets (notebooks/).")
    print("Valeurs posées dans params/defaults.yaml (chacune commentée dans le fichier) :")
    print("\n".join(f"  - {c}" for c in changes))
    print(
        f"Ensuite : cd {dossier}, vérifiez les données (cucs validate {args.donnees}), relisez "
        "params/defaults.yaml, puis lancez cucs run --communes CODE."
    )
    return 0


def cmd_params_init(args: argparse.Namespace) -> int:
    from cucs_analysis.pipeline import params

    root = params.find_project_root()
    path = params.write_commune_template(args.code_commune, root, force=args.force)
    print(f"Fichier de paramètres écrit : {path}")
    return 0


def cmd_import_insee_qpv(args: argparse.Namespace) -> int:
    from cucs_analysis.data.errors import DataError
    from cucs_analysis.data.imports import insee_qpv

    try:
        resultat = insee_qpv.importer(
            Path(args.fichier),
            contours=Path(args.contours),
            out=Path(args.out),
            communes=Path(args.communes) if args.communes else None,
            epci=Path(args.epci) if args.epci else None,
            vides=args.vides,
            annees=args.annee or [],
            force=args.force,
        )
    except (DataError, OSError, KeyboardInterrupt):
        raise
    except Exception as exc:  # a file the checks did not foresee: French message, output untouched
        return _fail(
            f"Erreur : import impossible ({type(exc).__name__}) : vérifiez que les fichiers sont bien le "
            f"fichier INSEE des quartiers et leurs contours ; le dossier {args.out} n'a pas été modifié."
        )
    print(resultat.resume)
    for avertissement in resultat.rapport.avertissements:
        print(f"Avertissement : {avertissement}")
    print(f"Dossier écrit : {args.out} (vérifiez-le avec « cucs validate {args.out} »).")
    return 0


def cmd_template(args: argparse.Namespace) -> int:
    from cucs_analysis.data.imports import modele

    path = modele.ecrire_modele(Path(args.fichier), force=args.force)
    feuilles = ", ".join(f"« {f} »" for f in (modele.MODE_EMPLOI, *modele.FEUILLES.values()))
    print(f"Modèle écrit : {path} (feuilles {feuilles}).")
    print(f"Remplissez-le, puis importez-le avec « cucs import modele {path} --out DOSSIER ».")
    return 0


def cmd_import_modele(args: argparse.Namespace) -> int:
    from cucs_analysis.data.errors import DataError
    from cucs_analysis.data.imports import modele

    try:
        resultat = modele.importer(Path(args.classeur), out=Path(args.out), force=args.force)
    except DataError as exc:
        if not any(p.fichier.startswith("feuille ") for p in exc.problems):
            raise
        lignes = "\n".join(f"  - {p}" for p in exc.problems)
        return _fail(
            f"Erreur : le classeur {Path(args.classeur).name} n'a pas été importé (rien n'a été écrit) :\n{lignes}"
        )
    print(resultat.resume)
    for avertissement in resultat.avertissements:
        print(f"Avertissement : {avertissement}")
    print(f"Dossier écrit : {args.out} (vérifiez-le avec « cucs validate {args.out} »).")
    return 0


def cmd_import_civille(args: argparse.Namespace) -> int:
    from cucs_analysis.data.imports import civille

    resultat = civille.importer(
        [Path(f) for f in args.fichiers],
        out=Path(args.out),
        contrats=Path(args.contrats) if args.contrats else None,
        regions=args.region,
        departements=args.departement,
        force=args.force,
    )
    print(resultat.resume)
    for avertissement in resultat.rapport.avertissements:
        print(f"Avertissement : {avertissement}")
    print(f"Dossier écrit : {args.out} (vérifiez-le avec « cucs validate {args.out} »).")
    return 0


def build_parser() -> FrenchParser:
    parser = FrenchParser(
        prog="cucs",
        description="Évaluation des CUCS et des contrats de ville : données, carnets et site.",
    )
    sub = parser.add_subparsers(
        dest="commande", title="commandes", metavar="COMMANDE", parser_class=FrenchParser
    )

    p = sub.add_parser("demo", help="(re)génère le jeu de démonstration")
    p.add_argument("--out", default="data/demo", help="dossier de sortie (défaut : data/demo)")
    p.add_argument(
        "--scale",
        choices=("region", "national"),
        default="region",
        help="taille : une région fictive ou un jeu national (~900 communes)",
    )
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser(
        "validate", help="vérifie un dossier de données, ou un seul fichier, et liste tous les problèmes"
    )
    p.add_argument(
        "dossier",
        metavar="chemin",
        help="dossier de données à vérifier, ou un seul fichier (une table, ou un fichier d'une autre "
        "source : la commande d'import à utiliser)",
    )
    p.set_defaults(func=cmd_validate)

    p = sub.add_parser("run", help="exécute les carnets pour les communes et publie le site")
    p.add_argument("--communes", nargs="+", metavar="CODE", help="codes des communes (défaut : toutes)")
    p.add_argument(
        "--questions", nargs="+", metavar="Q", help="questions (q1 … q8, synthese ; défaut : toutes)"
    )
    p.add_argument(
        "--jobs", type=_positive_int, default=None, help="nombre de processus (défaut : un par cœur)"
    )
    p.add_argument("--resume", action="store_true", help="ne relance que ce qui a changé")
    p.add_argument("--out", default=None, help="dossier de sortie (défaut : out/)")
    p.add_argument(
        "--scheduler",
        default=None,
        metavar="ADRESSE",
        help="adresse d'un ordonnanceur Dask existant (tcp://machine:8786) : les carnets s'exécutent "
        "sur ses workers, sans disque partagé",
    )
    p.add_argument(
        "--executor",
        choices=("processus", "dask"),
        default="processus",
        help="processus : processus locaux (défaut) ; dask : un cluster Dask local de --jobs "
        "processus (sans --scheduler)",
    )
    p.add_argument(
        "--noyau",
        choices=("chaud", "standard"),
        default=None,
        help="chaud : noyaux dupliqués d'un processus modèle qui a déjà chargé les bibliothèques "
        "(défaut sous Linux, plus rapide) ; standard : un noyau Python neuf par carnet",
    )
    p.add_argument(
        "--delai-max",
        type=_minutes,
        default=None,
        metavar="MIN",
        help="durée maximale d'un carnet, en minutes : au-delà il est arrêté et noté en échec "
        "(défaut : execution.delai_max_minutes des paramètres, 10)",
    )
    p.add_argument(
        "--donnees",
        default=None,
        metavar="DOSSIER",
        help="dossier de données à utiliser (remplace la clé donnees de params/defaults.yaml)",
    )
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("site", help="reconstruit le site à partir des résultats existants")
    p.add_argument("--out", default=None, help="dossier des résultats (défaut : out/)")
    p.set_defaults(func=cmd_site)

    # `cucs import <format>`: one sub-command per foreign format (insee-qpv, civille, modele).
    p = sub.add_parser("import", help="importe des fichiers ouverts (INSEE, Ci.Ville, modèle) en tables")
    isub = p.add_subparsers(dest="format", title="formats", metavar="FORMAT", parser_class=FrenchParser)
    pq = isub.add_parser(
        "insee-qpv", help="indicateurs INSEE des quartiers prioritaires (44 colonnes) et leurs contours"
    )
    pq.add_argument("fichier", help="fichier INSEE des QPV (CSV « , » ou « ; », ou XLSX)")
    pq.add_argument("--contours", required=True, metavar="FICHIER", help="contours des QPV (GeoJSON, GPKG)")
    pq.add_argument("--communes", metavar="FICHIER", help="contours des communes (GeoJSON, GPKG ; optionnel)")
    pq.add_argument(
        "--epci",
        metavar="FICHIER",
        help="composition communale des EPCI de l'INSEE (XLSX ou CSV ; optionnel)",
    )
    pq.add_argument(
        "--vides",
        choices=("secret", "manquant"),
        default="secret",
        help="une cellule vide est un secret statistique (défaut) ou une valeur manquante",
    )
    pq.add_argument(
        "--annee",
        action="append",
        metavar="FAMILLE=AAAA",
        help="année de référence d'une famille de variables (ex. revenus=2017) ; répétable",
    )
    pq.add_argument("--out", required=True, metavar="DOSSIER", help="dossier de données à écrire")
    pq.add_argument("--force", action="store_true", help="remplace les tables déjà présentes dans --out")
    pq.set_defaults(func=cmd_import_insee_qpv)

    pc = isub.add_parser(
        "civille", help="postes financés par l'État (programme 147 : adultes-relais, FONJEP)"
    )
    pc.add_argument(
        "fichiers", nargs="+", metavar="FICHIER", help="postes financés (JSON ou CSV), un par année"
    )
    pc.add_argument(
        "--contrats",
        metavar="FICHIER",
        help="contrats de ville (geom_cv_ctr.json : EPCI de chaque contrat ; défaut : celui des fichiers)",
    )
    pc.add_argument(
        "--region", nargs="+", default=[], metavar="CODE", help="ne garder que ces régions (ex. 76)"
    )
    pc.add_argument(
        "--departement",
        nargs="+",
        default=[],
        metavar="CODE",
        help="ne garder que ces départements (ex. 31 34)",
    )
    pc.add_argument(
        "--out", required=True, metavar="DOSSIER", help="dossier de données à écrire ou compléter"
    )
    pc.add_argument("--force", action="store_true", help="remplace les tables déjà présentes dans --out")
    pc.set_defaults(func=cmd_import_civille)

    pm = isub.add_parser("modele", help="classeur de programmation rempli (modèle « cucs template »)")
    pm.add_argument("classeur", help="classeur Excel (.xlsx) produit par « cucs template » et rempli")
    pm.add_argument(
        "--out", required=True, metavar="DOSSIER", help="dossier de données à écrire ou compléter"
    )
    pm.add_argument("--force", action="store_true", help="remplace les tables déjà présentes dans --out")
    pm.set_defaults(func=cmd_import_modele)

    p = sub.add_parser(
        "template", help="écrit le classeur Excel de programmation à remplir (actions, financements)"
    )
    p.add_argument("fichier", help="classeur à écrire, ex. programmation.xlsx")
    p.add_argument("--force", action="store_true", help="remplace un fichier existant")
    p.set_defaults(func=cmd_template)

    p = sub.add_parser("projet", help="projet d'un centre de ressources (ses données, ses paramètres)")
    prsub = p.add_subparsers(dest="action", title="actions", metavar="ACTION", parser_class=FrenchParser)
    pp = prsub.add_parser(
        "init",
        help="crée un dossier de projet : params/defaults.yaml réglé sur les données et les carnets",
    )
    pp.add_argument("dossier", help="dossier du projet à créer (vide)")
    pp.add_argument("--donnees", required=True, metavar="CHEMIN", help="dossier des données du projet")
    pp.add_argument(
        "--force", action="store_true", help="accepte un dossier non vide (réécrit params et carnets)"
    )
    pp.set_defaults(func=cmd_projet_init)

    p = sub.add_parser("params", help="fichiers de paramètres")
    psub = p.add_subparsers(dest="action", title="actions", metavar="ACTION", parser_class=FrenchParser)
    pi = psub.add_parser("init", help="écrit un fichier de paramètres commenté pour une commune")
    pi.add_argument("code_commune", help="code INSEE de la commune, ex. 20001")
    pi.add_argument("--force", action="store_true", help="remplace un fichier existant")
    pi.set_defaults(func=cmd_params_init)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not hasattr(args, "func"):
        parser.print_help()
        return 2
    # Errors the user can cause are reported in French, without a traceback.
    from cucs_analysis.data.errors import DataError

    known: tuple[type[BaseException], ...] = (DataError,)
    try:
        from cucs_analysis.pipeline.params import ParamError

        known = (*known, ParamError)
    except ImportError:  # params module not available in a minimal install
        pass
    try:
        return args.func(args)
    except known as exc:
        return _fail(f"Erreur : {exc}")
    except OSError as exc:
        return _fail(f"Erreur : {_os_error(exc)}")
    except KeyboardInterrupt:
        return _fail("Interruption demandée (Ctrl-C) : commande arrêtée.", 130)


if __name__ == "__main__":
    sys.exit(main())

/* Search box of the cucs-analysis index: filters the communes table by name or code.
   Local file, no dependency, works from file://. `index.html?q=...` pre-fills the search. */
(function () {
  "use strict";

  function normaliser(texte) {
    return (texte || "")
      .normalize("NFD")
      .replace(/[\u0300-\u036f]/g, "")
      .toLowerCase()
      .replace(/[\s'’-]+/g, " ")
      .trim();
  }

  function filtrer(champ, lignes, compte) {
    var termes = normaliser(champ.value).split(" ").filter(Boolean);
    var visibles = 0;
    lignes.forEach(function (ligne) {
      var cible = normaliser(ligne.getAttribute("data-recherche"));
      var garder = termes.every(function (t) { return cible.indexOf(t) !== -1; });
      ligne.hidden = !garder;
      if (garder) { visibles += 1; }
    });
    if (termes.length === 0) {
      compte.textContent = "";
    } else if (visibles === 0) {
      compte.textContent = "Aucune commune ne correspond à la recherche.";
    } else {
      compte.textContent = visibles + (visibles > 1 ? " communes affichées." : " commune affichée.");
    }
  }

  function demarrer() {
    var zone = document.getElementById("zone-recherche");
    var champ = document.getElementById("recherche");
    var compte = document.getElementById("recherche-compte");
    var tableau = document.getElementById("tableau-communes");
    if (!zone || !champ || !compte || !tableau) { return; }
    var lignes = Array.prototype.slice.call(tableau.querySelectorAll("tbody tr[data-recherche]"));
    zone.hidden = false; // the box is only shown when the script runs
    var q = new URLSearchParams(window.location.search).get("q");
    if (q) { champ.value = q; }
    champ.addEventListener("input", function () { filtrer(champ, lignes, compte); });
    filtrer(champ, lignes, compte);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", demarrer);
  } else {
    demarrer();
  }
})();

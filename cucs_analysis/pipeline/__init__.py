"""Pipeline layer: parameters, the results contract, the notebook context, the runner, the site."""

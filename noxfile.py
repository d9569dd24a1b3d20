# The checks of the Ansible ecosystem's standard runner, antsibull-nox, that work offline here;
# configured in antsibull-nox.toml. `make test` runs them in its `nox` stage:
#   .venv/bin/nox -R -e docs-check extra-checks build-import-check
import antsibull_nox

antsibull_nox.load_antsibull_nox_toml()

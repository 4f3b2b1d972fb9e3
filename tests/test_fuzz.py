"""Schema fuzzing: schemathesis generates requests for every operation of the whole OpenAPI
(positive and negative data) and runs all its checks against the in-process ASGI app: no server
error, every status documented, every body conforming to its schema, invalid input refused.

The app serves the small library (a fresh store per session); write routes write into that store
only. The number of examples per operation is bounded (ZHIBIAO_FUZZ_EXAMPLES, default 25) so the
whole run stays around two minutes on a small machine."""
from __future__ import annotations

import os
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from api.app import create_app
from engine.library import Library
from graph import open_store

EXAMPLES = int(os.environ.get("ZHIBIAO_FUZZ_EXAMPLES", "25"))


# the app is built at import (schemathesis reads its OpenAPI at collection); its library is set by
# the fixture below, since schemathesis calls the app without running its lifespan
APP = create_app(store_url="sqlite:///:memory:", seed=False)
# A schema cannot say which sector or project type names exist: a well-formed request naming none
# is answered 400 with the valid choices (BadQuery), an upload of another file type 415. Those are
# documented answers to schema-valid requests, so the positive-data check accepts them; every
# other check runs with its defaults.
CONFIG = schemathesis.Config.from_dict({"checks": {"positive_data_acceptance": {
    "expected-statuses": ["2xx", "3xx", 400, 401, 403, 404, 409, 415, 429]}}})
schema = schemathesis.openapi.from_asgi("/openapi.json", APP, config=CONFIG)


@pytest.fixture(scope="module", autouse=True)
def fuzz_library(mini_library: Path, tmp_path_factory: pytest.TempPathFactory):
    from loaders import load_file
    store = open_store(f"sqlite:///{tmp_path_factory.mktemp('fuzz') / 'fuzz.db'}")
    load_file(mini_library, store)
    APP.state.library = Library(store)
    yield
    store.close()


@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, derandomize=True,
          suppress_health_check=list(HealthCheck))
def test_every_operation_answers_as_documented(case: schemathesis.Case) -> None:
    case.call_and_validate()
